; Root-mode VMX instruction handling checked from a bare-metal kernel
; (tests/test_boot.c, ROOT-VMX-1/2/3, ROOT-CR-1, ROOT-MSR-1, ROOT-UD-1, ROOT-TSC-1).
; Each check that fails exits with its own code (10..43); all passed: exit 0. An unexpected
; exception exits with 50 + vector. Exceptions are caught by handlers that
; record the vector and error code and resume at [fixup] (ring 0, stack reset).
; Default (64-bit mode): VMXON with CR4.VMXE = 0 is #UD; VMXON with
;   IA32_FEATURE_CONTROL locked and enabled works; VMCALL outside VMX operation and
;   RDRAND are #UD; RDTSC reads IA32_TIME_STAMP_COUNTER as written plus the cycles
;   since; VMCALL in root operation is VMfailValid(1); in VMX operation MOV CR0
;   clearing NE (CR0_FIXED0) and MOV CR4 clearing VMXE (CR4_FIXED0) are #GP(0);
;   VMWRITE/VMREAD with register and memory operands move 64 bits; a
;   non-canonical memory operand of VMCLEAR ... INVVPID is #GP(0), #SS(0) when
;   SS-based, never #PF (ROOT-SEG-1); VMREAD and VMWRITE at CPL 3 are #GP(0).
; -DV_FC: VMXON with IA32_FEATURE_CONTROL unlocked is #GP(0); locked without
;   "VMX outside SMX" it is #GP(0); WRMSR to the locked MSR is #GP(0).
; -DV_PM32: 32-bit protected mode with 4-MiB paging: VMXON, VMWRITE/VMREAD
;   register and memory operands move 32 bits (a VMREAD to memory writes one
;   dword: the next one is checked untouched); ROOT-SEG-1's limits: an operand
;   past an expand-up data segment's limit is #GP(0) (exits 60..62), below an
;   expand-down one's #GP(0) (63, 64), and with SS (an override or an EBP base)
;   #SS(0) (65, 66); INS and OUTS elements past ES's / FS's limit #GP(0) (67, 68).
%include "elf.inc"

%macro EXPECT_EXC 3              ; run instruction %1 expecting vector %2, else exit %3
        mov dword [rel_vec], 0xFF
        mov dword [fixup], %%after
        %1
%%after:
        cmp dword [rel_vec], %2
        je %%ok
        EXIT %3
%%ok:
%endmacro

start:
        mov esp, stack_top
        lgdt [gdt_ptr]
        jmp 0x18:.cs32
.cs32:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
%ifdef V_PM32
        ; 32-bit paging, 4-MiB identity pages for the first 16 MiB
        mov dword [pd32], 0x00000087
        mov dword [pd32 + 4], 0x00400087
        mov dword [pd32 + 8], 0x00800087
        mov dword [pd32 + 12], 0x00C00087
        mov eax, pd32
        mov cr3, eax
        mov eax, cr4
        or eax, 0x10                    ; PSE
        mov cr4, eax
        mov eax, cr0
        or eax, 0x80000021              ; PG | NE | PE
        mov cr0, eax
        ; IDT: #UD and #GP, 32-bit interrupt gates
        IDT_GATE32 idt, 6, ud32, 0x18
        IDT_GATE32 idt, 13, gp32, 0x18
        lidt [idt_ptr32]
        mov ecx, 0x3A
        mov eax, 5
        xor edx, edx
        wrmsr
        mov eax, cr4
        or eax, 1 << 13
        mov cr4, eax
        mov ecx, 0x480
        rdmsr
        mov [vmxon_region], eax
        mov [vmcs_region], eax
        vmxon [vmxon_ptr]
        jbe .f10
        vmclear [vmcs_ptr]
        jbe .f11
        vmptrld [vmcs_ptr]
        jbe .f12
        ; register forms: 32-bit operands
        mov eax, 0x681E                 ; GUEST_RIP (natural width)
        mov ebx, 0x89ABCDEF
        vmwrite eax, ebx
        jbe .f13
        xor ecx, ecx
        vmread ecx, eax
        jbe .f14
        cmp ecx, 0x89ABCDEF
        jne .f15
        ; memory forms: a dword is read and written, the next one untouched
        mov dword [val], 0x13572468
        mov dword [val + 4], 0xA5A5A5A5
        mov eax, 0x6820                 ; GUEST_RFLAGS
        vmwrite eax, [val]
        jbe .f16
        mov dword [out], 0
        mov dword [out + 4], 0x5A5A5A5A
        vmread [out], eax
        jbe .f17
        cmp dword [out], 0x13572468
        jne .f18
        cmp dword [out + 4], 0x5A5A5A5A
        jne .f19
        ; ROOT-SEG-1, 32-bit limits: 0x48 is an expand-up data segment based at
        ; BASE whose limit ends 3 bytes past `out`; 0x50 an expand-down one (base
        ; 0, limit 0xFFF: offsets 0x1000 and up are inside it)
        mov dword [fixup], .unexpected_gp
        mov eax, gp32r
        mov [idt + 13 * 8], ax
        shr eax, 16
        mov [idt + 13 * 8 + 6], ax
        IDT_GATE32 idt, 12, ss32r, 0x18
        mov ax, 0x48
        mov fs, ax
        mov eax, 0x4400                                 ; VM-instruction error (read-only)
        vmread [fs:out - BASE], eax                     ; 4 bytes, the last at the limit: fine
        jbe .f60
        EXPECT_EXC {vmread [fs:out - BASE + 1], eax}, 13, 61     ; one byte past the limit: #GP(0)
        EXPECT_EXC {vmptrld [fs:out - BASE]}, 13, 62             ; 8 bytes past the limit: #GP(0)
        ; INS/OUTS elements get the same checks (ROOT-IO-3)
        mov ax, 0x48
        mov es, ax
        mov dx, 0x80                                    ; POST code port: reads 0, a sink
        mov edi, out - BASE + 2
        insw                                            ; ES:[EDI], the last byte at the limit: fine
        cmp edi, out - BASE + 4
        jne .f67
        mov edi, out - BASE + 2
        EXPECT_EXC insd, 13, 67                                  ; past ES's limit: #GP(0)
        mov esi, out - BASE + 1
        EXPECT_EXC {fs outsd}, 13, 68                            ; past FS's limit: #GP(0)
        mov ax, 0x50
        mov es, ax
        EXPECT_EXC {vmptrld [es:0x800]}, 13, 63                  ; expand-down: below the limit, #GP(0)
        vmptrld [es:vmcs_ptr]                                    ; above the limit: fine
        jbe .f64
        mov ax, 0x50
        mov ss, ax                                      ; the stack stays inside it (ESP > 0xFFF)
        EXPECT_EXC {vmptrld [ss:0x800]}, 12, 65                  ; SS: #SS(0)
        mov ax, 0x50
        mov ss, ax
        mov ebp, 0x7F8
        EXPECT_EXC {vmclear [ebp]}, 12, 66                       ; SS by default (EBP base): #SS(0)
        EXIT 0
.unexpected_gp:
        EXIT 63
.f60:   EXIT 60
.f64:   EXIT 64
.f67:   EXIT 67
.f10:   EXIT 10
.f11:   EXIT 11
.f12:   EXIT 12
.f13:   EXIT 13
.f14:   EXIT 14
.f15:   EXIT 15
.f16:   EXIT 16
.f17:   EXIT 17
.f18:   EXIT 18
.f19:   EXIT 19
ud32:   EXIT 56
gp32:   EXIT 63
gp32r:  pop eax                                 ; record #GP and its error code, resume at [fixup]
        mov [rel_err], eax
        mov dword [rel_vec], 13
        jmp resume32
ss32r:  pop eax
        mov [rel_err], eax
        mov dword [rel_vec], 12
resume32:
        mov ax, 0x10
        mov ss, ax
        mov esp, stack_top
        mov eax, [fixup]
        jmp eax
%else
        IDENTITY_LONG_MODE 1                ; 2-MiB identity pages, user-accessible, then long64

        bits 64
long64: mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, stack_top
        mov qword [tss + 4], stack_top  ; RSP0
        mov ax, 0x28
        ltr ax
        mov rdi, 6
        mov rax, ud_handler
        call set_gate
        mov rdi, 13
        mov rax, gp_handler
        call set_gate
        mov rdi, 12
        mov rax, ss_handler
        call set_gate
        lidt [idt_ptr]
%ifdef V_FC
        mov ecx, 0x480
        rdmsr
        mov [vmxon_region], eax
        mov rax, cr4
        or rax, 1 << 13
        mov cr4, rax
        EXPECT_EXC {vmxon [vmxon_ptr]}, 13, 20      ; unlocked
        mov ecx, 0x3A
        mov eax, 1                                  ; lock only
        xor edx, edx
        wrmsr
        EXPECT_EXC {vmxon [vmxon_ptr]}, 13, 21      ; locked, VMX not enabled
        mov ecx, 0x3A
        mov eax, 5
        xor edx, edx
        EXPECT_EXC wrmsr, 13, 22                    ; the MSR is locked
        EXIT 0
%else
        mov ecx, 0x480
        rdmsr
        mov [vmxon_region], eax
        mov [vmcs_region], eax
        EXPECT_EXC {vmxon [vmxon_ptr]}, 6, 20       ; CR4.VMXE = 0: #UD
        EXPECT_EXC vmcall, 6, 40                    ; ROOT-VMX-3: outside VMX operation #UD
        EXPECT_EXC {rdrand eax}, 6, 41              ; ROOT-UD-1: CPUID does not offer RDRAND
        mov ecx, 0x10                               ; ROOT-TSC-1: IA32_TIME_STAMP_COUNTER
        mov eax, 0x40000000                         ;   = 0x1_4000_0000, then RDTSC reads it
        mov edx, 1                                  ;   plus the few cycles since
        wrmsr
        rdtsc
        cmp edx, 1
        jne f42
        cmp eax, 0x40000000
        jb f42
        cmp eax, 0x40010000
        jae f42
        mov ecx, 0x3A
        mov eax, 5
        xor edx, edx
        wrmsr
        mov rax, cr4
        or rax, 1 << 13
        mov cr4, rax
        vmxon [vmxon_ptr]
        jbe f21
        mov rax, cr0
        and rax, ~(1 << 5)
        EXPECT_EXC {mov cr0, rax}, 13, 22           ; NE is fixed to 1 in VMX operation
        mov rax, cr4
        and rax, ~(1 << 13)
        EXPECT_EXC {mov cr4, rax}, 13, 23           ; VMXE is fixed to 1 in VMX operation
        vmclear [vmcs_ptr]
        jbe f24
        vmptrld [vmcs_ptr]
        jbe f24
        vmcall                                      ; ROOT-VMX-3: VMfailValid(1) in root operation
        jc f43
        jnz f43
        mov rax, 0x4400                             ; VM-instruction error
        vmread rcx, rax
        cmp rcx, 1
        jne f43
        ; VMWRITE r64, r64 / VMREAD r64, r64: all 64 bits
        mov rax, 0x681E
        mov rbx, 0x1122334455667788
        vmwrite rax, rbx
        jbe f25
        xor rcx, rcx
        vmread rcx, rax
        jbe f25
        cmp rcx, rbx
        jne f26
        ; VMWRITE r64, m64 / VMREAD m64, r64
        mov rbx, 0x0123456789ABCDEF
        mov [val], rbx
        mov rax, 0x6C16                             ; HOST_RIP
        vmwrite rax, [val]
        jbe f27
        mov qword [out], 0
        vmread [out], rax
        jbe f27
        cmp [out], rbx
        jne f28
        ; a 32-bit field read into a 64-bit register is zero-extended
        mov rax, 0x4002
        mov rbx, 0x12345678
        vmwrite rax, rbx
        mov rcx, -1
        vmread rcx, rax
        cmp rcx, 0x12345678
        jne f29
        ; ROOT-SEG-1: a non-canonical memory operand is #GP(0) (#SS(0) when
        ; SS-based) before any page walk (the address is not mapped either)
        mov rbx, 0xAAAAAAAAAAAAAAAA
        EXPECT_EXC {vmclear [rbx]}, 13, 32
        EXPECT_EXC {vmptrld [rbx]}, 13, 32
        EXPECT_EXC {vmptrst [rbx]}, 13, 33
        mov rax, 0x681E                             ; a valid field (the handlers clobber RAX)
        EXPECT_EXC {vmread [rbx], rax}, 13, 34
        mov rax, 0x681E
        EXPECT_EXC {vmwrite rax, [rbx]}, 13, 34
        mov eax, 1
        EXPECT_EXC {invept rax, [rbx]}, 13, 35
        EXPECT_EXC {invvpid rax, [rbx]}, 13, 35
        mov rbp, rbx
        EXPECT_EXC {vmclear [rbp]}, 12, 36
        mov rax, 0x681E
        EXPECT_EXC {vmread [rsp + rbx], rax}, 12, 36
        vmptrld [vmcs_ptr]                          ; still the current VMCS
        jbe f37
        ; CPL 3: VMREAD is #GP(0)
        mov dword [fixup], .back
        mov dword [rel_vec], 0xFF
        push 0x3B                                   ; SS: user data (0x38) | 3
        push user_stack_top
        push 2                                      ; RFLAGS
        push 0x43                                   ; CS: user 64-bit code (0x40) | 3
        push user_code
        iretq
.back:  cmp dword [rel_vec], 13
        jne f30
        cmp dword [rel_err], 0
        jne f31
        EXIT 0
%endif
f21:    EXIT 21
f24:    EXIT 24
f25:    EXIT 25
f26:    EXIT 26
f27:    EXIT 27
f28:    EXIT 28
f29:    EXIT 29
f30:    EXIT 30
f31:    EXIT 31
f37:    EXIT 37
f42:    EXIT 42
f43:    EXIT 43

user_code:
        mov rax, 0x681E
        vmread rbx, rax                             ; #GP(0) at CPL 3
        jmp user_code

        SET_GATE_FN                     ; set_gate: IDT[rdi] <- a 64-bit interrupt gate to rax

ud_handler:
        mov dword [rel_vec], 6
        mov rsp, stack_top
        mov eax, [fixup]
        jmp rax
ss_handler:
        pop rax
        mov [rel_err], eax
        mov dword [rel_vec], 12
        mov rsp, stack_top
        mov eax, [fixup]
        jmp rax
gp_handler:
        pop rax
        mov [rel_err], eax
        mov dword [rel_vec], 13
        mov rsp, stack_top
        mov eax, [fixup]
        jmp rax
%endif

        align 8
vmxon_ptr:   dq vmxon_region
vmcs_ptr:    dq vmcs_region
idt_ptr:     dw 256 * 16 - 1
             dq idt
idt_ptr32:   dw 256 * 8 - 1
             dd idt
gdt_ptr:     dw gdt_end - gdt - 1
             dq gdt
        align 16
gdt:    dq 0
        dq 0x00AF9B000000FFFF   ; 0x08: 64-bit code
        dq 0x00CF93000000FFFF   ; 0x10: data
        dq 0x00CF9B000000FFFF   ; 0x18: 32-bit code
        dq 0
        ; 0x28: 64-bit TSS, base = tss
        dw 0x67
        dw tss - BASE
        db 0x10
        db 0x89
        db 0
        db 0
        dq 0
        dq 0x00CFF3000000FFFF   ; 0x38: user data
        dq 0x00AFFB000000FFFF   ; 0x40: user 64-bit code
        ; 0x48: data, read/write, base BASE, limit out - BASE + 3 (bytes)
        dw out - BASE + 3
        dw 0
        db BASE >> 16
        db 0x93
        db 0x40
        db 0
        dq 0x0040970000000FFF   ; 0x50: data, read/write, expand-down, base 0, limit 0xFFF, B = 1
gdt_end:
        times 0x2000 - ($ - $$) db 0
file_end:
        absolute BASE + 0x2000
tss:    resb 4096
idt:    resb 4096
vmxon_region: resb 4096
vmcs_region:  resb 4096
pml4:   resb 4096
pdpt:   resb 4096
pd:     resb 4096
pd32:   resb 4096
val:    resq 2
out:    resq 2
fixup:  resd 1
rel_vec: resd 1
rel_err: resd 1
        resb 8192
stack_top:
        resb 4096
user_stack_top:
mem_end:
