; The project's smallest bare-metal VMM (tests/test_boot.c): Multiboot entry in
; 32-bit protected mode -> 4-level paging (2-MiB identity pages) -> 64-bit mode
; -> IA32_FEATURE_CONTROL -> VMXON -> VMCLEAR/VMPTRLD -> VMWRITE (register and
; memory operands) -> VMLAUNCH of a 64-bit guest that executes VMCALL -> the host
; reads the exit reason (VMREAD to memory), prints it on COM1 and exits through
; port 0xF4 with code 0 (18 = VMCALL), or with 3 when VMLAUNCH fails.
; -DV_MOVSS: VMLAUNCH right after MOV SS; exits with the VM-instruction error (26).
; -DV_UD: VMXOFF outside VMX operation; the #UD handler (host IDT) exits with 60
; when the pushed RIP is the VMXOFF's, 61 otherwise.
%include "elf.inc"

%macro VMW 2                     ; VMWRITE field %1 <- %2 (register form)
        mov rbx, %2
        mov rax, %1
        vmwrite rax, rbx
%endmacro

start:
        mov esp, stack_top
        lgdt [gdt_ptr]
        jmp 0x18:.cs32
.cs32:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        IDENTITY_LONG_MODE 0                ; 2-MiB identity pages, then long64

        bits 64
long64: mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, stack_top
        mov ax, 0x28
        ltr ax
        mov esi, msg_boot
        PUTS_BODY
        ; IDT: #UD (vector 6) -> ud_handler, a 64-bit interrupt gate
        mov rax, ud_handler
        mov [idt + 6 * 16], ax
        mov word [idt + 6 * 16 + 2], 0x08
        mov word [idt + 6 * 16 + 4], 0x8E00
        shr rax, 16
        mov [idt + 6 * 16 + 6], ax
        shr rax, 16
        mov [idt + 6 * 16 + 8], eax
        lidt [idt_ptr]
%ifdef V_UD
ud_site:
        vmxoff                  ; #UD: not in VMX operation
        EXIT 62
%endif
        ; IA32_FEATURE_CONTROL: lock | VMX outside SMX
        mov ecx, 0x3A
        rdmsr
        test al, 1
        jnz .locked
        mov eax, 5
        xor edx, edx
        wrmsr
.locked:
        mov rax, cr4
        or rax, 1 << 13         ; VMXE
        mov cr4, rax
        mov ecx, 0x480          ; IA32_VMX_BASIC: the revision identifier
        rdmsr
        mov [vmxon_region], eax
        mov [vmcs_region], eax
        vmxon [vmxon_ptr]
        jbe fail
        vmclear [vmcs_ptr]
        jbe fail
        vmptrld [vmcs_ptr]
        jbe fail
        ; controls: (wanted | must-be-1) & may-be-1 from the TRUE capability MSRs
        mov ecx, 0x48D
        xor edi, edi
        call ctl
        VMW 0x4000, rax         ; pin-based
        mov ecx, 0x48E
        xor edi, edi
        call ctl
        VMW 0x4002, rax         ; primary processor-based
        mov ecx, 0x48F
        mov edi, 1 << 9         ; host address-space size
        call ctl
        VMW 0x400C, rax
        mov ecx, 0x490
        mov edi, 1 << 9         ; IA-32e mode guest
        call ctl
        VMW 0x4012, rax
        ; host state
        mov rax, cr0
        VMW 0x6C00, rax
        mov rax, cr3
        VMW 0x6C02, rax
        mov rax, cr4
        VMW 0x6C04, rax
        VMW 0x0C00, 0x10
        VMW 0x0C02, 0x08
        VMW 0x0C04, 0x10
        VMW 0x0C06, 0x10
        VMW 0x0C08, 0x10
        VMW 0x0C0A, 0x10
        VMW 0x0C0C, 0x28
        VMW 0x6C0A, tss
        VMW 0x6C0C, gdt
        VMW 0x6C0E, 0
        VMW 0x6C14, stack_top
        mov rax, 0x6C16         ; HOST_RIP from memory (VMWRITE r64, m64)
        vmwrite rax, [rel host_rip]
        ; guest state: the host's environment
        mov rax, cr0
        VMW 0x6800, rax
        mov rax, cr3
        VMW 0x6802, rax
        mov rax, cr4
        VMW 0x6804, rax
        VMW 0x681A, 0x400
        VMW 0x681C, guest_stack_top
        VMW 0x681E, guest
        VMW 0x6820, 2
        VMW 0x2800, -1          ; VMCS link pointer
        VMW 0x0802, 0x08
        VMW 0x4802, 0xFFFFFFFF
        VMW 0x4816, 0xA09B
        mov r12, 0x0800         ; ES, SS, DS, FS, GS: selector 0x10, flat data
.data_segs:
        VMW r12, 0x10
        lea r13, [r12 + 0x4000]
        VMW r13, 0xFFFFFFFF
        mov r14, r12
        sub r14, 0x800
        lea r13, [0x4814 + r14]
        VMW r13, 0xC093
        add r12, 2
        cmp r12, 0x0802
        je .skip_cs
        cmp r12, 0x080C
        jb .data_segs
        jmp .segs_done
.skip_cs:
        add r12, 2
        jmp .data_segs
.segs_done:
        VMW 0x080E, 0x28        ; TR
        VMW 0x480E, 0x67
        VMW 0x4822, 0x8B
        VMW 0x6814, tss
        VMW 0x4820, 0x10000     ; LDTR unusable
        VMW 0x4810, gdt_end - gdt - 1
        VMW 0x6816, gdt
%ifdef V_MOVSS
        mov ax, ss
        mov ss, ax              ; blocking by MOV SS covers the VMLAUNCH
%endif
        vmlaunch
        ; VMLAUNCH fell through: VMfail
        mov rax, 0x4400
        vmread [rel vm_error], rax
        mov esi, msg_fail
        PUTS_BODY
%ifdef V_MOVSS
        mov eax, [rel vm_error]
        mov dx, 0xF4
        out dx, eax
%endif
        EXIT 3

fail:   mov esi, msg_fail
        PUTS_BODY
        EXIT 4

; eax <- (edi | allowed-0 of MSR ecx) & allowed-1
ctl:    rdmsr
        or eax, edi
        and eax, edx
        ret

vm_exit:
        mov rax, 0x4402         ; exit reason, VMREAD to memory (m64, r64)
        vmread [rel exit_reason], rax
        mov esi, msg_exit
        PUTS_BODY
        cmp dword [rel exit_reason], 18
        jne .other
        EXIT 0
.other: EXIT 2

ud_handler:
%ifdef V_UD
        cmp qword [rsp], ud_site
        jne .wrong
        EXIT 60
.wrong:
%endif
        EXIT 61

guest:  vmcall
        jmp guest

        align 8
host_rip:    dq vm_exit
vmxon_ptr:   dq vmxon_region
vmcs_ptr:    dq vmcs_region
exit_reason: dq 0
vm_error:    dq 0
idt_ptr:     dw 256 * 16 - 1
             dq idt
gdt_ptr:     dw gdt_end - gdt - 1
             dq gdt
        align 16
gdt:    dq 0
        dq 0x00AF9B000000FFFF   ; 0x08: 64-bit code
        dq 0x00CF93000000FFFF   ; 0x10: data
        dq 0x00CF9B000000FFFF   ; 0x18: 32-bit code
        dq 0
        ; 0x28: 64-bit TSS (available type 9; LTR makes it busy), base = tss
        dw 0x67
        dw tss - BASE
        db 0x10
        db 0x89
        db 0
        db 0
        dq 0
gdt_end:
msg_boot: db "vmm_hello: long mode", 13, 10, 0
msg_exit: db "vmm_hello: VM exit", 13, 10, 0
msg_fail: db "vmm_hello: VMX instruction failed", 13, 10, 0
        times 0x2000 - ($ - $$) db 0    ; the code fits in 8 KiB; the BSS follows
file_end:
        absolute BASE + 0x2000
tss:    resb 4096
idt:    resb 4096
vmxon_region: resb 4096
vmcs_region:  resb 4096
pml4:   resb 4096
pdpt:   resb 4096
pd:     resb 4096
        resb 8192
stack_top:
        resb 4096
guest_stack_top:
mem_end:
