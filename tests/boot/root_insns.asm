; Root-mode instructions the model carries out for Unicorn (tests/test_boot.c):
; INS/OUTS (ROOT-IO-3), the TSS I/O permission bit map (ROOT-IO-2), SYSCALL/
; SYSRET (ROOT-SYS-1) and RDPMC (ROOT-PMC-1), in 64-bit mode. Each check that
; fails exits with its own code (10..49); all passed: exit 0. An unexpected
; exception exits with 50 + vector. Expected exceptions are caught by handlers
; that record the vector and error code and resume at [fixup] (ring 0, stack
; reset); SYSCALL lands in sys_entry, which records RCX, R11, RFLAGS, CS, SS and
; resumes at [fixup] too.
; COM1 gets "[HELLO]" (REP OUTSB with an FS override, FS.base from
; IA32_FS_BASE), "[XW]" (REP OUTSW with DF = 1: the low byte of each word),
; "[PQ]" (a32 REP OUTSD: ESI, not RSI) and "U" (OUT at CPL 3 to a port the I/O
; bit map allows).
%include "elf.inc"

%macro EXPECT_EXC 3              ; run instruction %1 expecting vector %2, else exit %3
        mov dword [rel_vec], 0xFF
        mov dword [fixup], %%after
        %1
%%after:
        cmp dword [rel_vec], %2
        jne f%3
        cmp dword [rel_err], 0
        jne f%3
%endmacro

%macro USER 2                    ; run user routine %1 at CPL 3, come back to the next line (exit %2 if it faults)
        mov dword [rel_vec], 0xFF
        mov dword [fixup], %%back
        push 0x3B                ; SS: user data | 3
        push user_stack_top
        push 2                   ; RFLAGS (IOPL 0)
        push 0x43                ; CS: user 64-bit code | 3
        push %1
        iretq
%%back:
%endmacro

%macro PUTC 1
        mov al, %1
        mov dx, 0x3F8
        out dx, al
%endmacro

%macro WRMSR64 2                 ; MSR %1 <- %2 (clobbers RAX, RCX, RDX)
        mov ecx, %1
        mov rax, %2
        mov rdx, rax
        shr rdx, 32
        wrmsr
%endmacro

start:
        mov esp, stack_top
        lgdt [gdt_ptr]
        jmp 0x18:.cs32
.cs32:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        IDENTITY_LONG_MODE 1                ; 2-MiB identity pages, user-accessible, then long64

        bits 64
long64: mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, stack_top
        mov qword [tss + 4], stack_top          ; RSP0
        mov word [tss + 0x66], 0x68             ; the I/O permission bit map at TSS + 0x68
        mov byte [tss + 0x68 + 0x80 / 8], 1     ; port 0x80 denied
        mov byte [tss + 0x68 + 0x80], 0xFF      ; the byte after the map (ports 0..0x3FF)
        mov ax, 0x28
        ltr ax
        xor ebx, ebx
.gates: mov rdi, rbx
        mov rax, unexpected
        call set_gate
        inc ebx
        cmp ebx, 32
        jb .gates
        mov rdi, 6
        mov rax, ud_handler
        call set_gate
        mov rdi, 13
        mov rax, gp_handler
        call set_gate
        lidt [idt_ptr]

        ; ---- ROOT-IO-3: OUTS ----
        PUTC '['
        WRMSR64 0xC0000100, hello - 0x1000      ; IA32_FS_BASE
        mov esi, 0x1000
        mov ecx, 5
        mov dx, 0x3F8
        fs rep outsb                            ; FS:[RSI]
        cmp rcx, 0
        jne f10
        cmp rsi, 0x1005
        jne f10
        PUTC ']'
        PUTC '['
        mov esi, words + 2                      ; DF = 1: the last word first
        mov ecx, 2
        mov dx, 0x3F8
        std
        rep outsw
        cld
        mov eax, words - 2
        cmp rsi, rax
        jne f11
        PUTC ']'
        PUTC '['
        mov rsi, 0xFFFF000000000000 + dwords    ; a32: ESI only; RSI zero-extended after
        mov rcx, 0xFFFF000000000002             ; ECX = 2
        mov dx, 0x3F8
        a32 rep outsd
        mov eax, dwords + 8
        cmp rsi, rax
        jne f12
        test rcx, rcx
        jnz f12
        PUTC ']'

        ; ---- ROOT-IO-3: INS ----
        mov qword [buf], 0
        mov word [buf + 6], 0x1234
        mov edi, buf
        mov ecx, 3
        mov dx, 0x3FD                           ; COM1 LSR reads 0x60
        rep insw
        test rcx, rcx
        jnz f13
        cmp rdi, buf + 6
        jne f13
        cmp dword [buf], 0x00600060
        jne f14
        cmp word [buf + 4], 0x0060
        jne f14
        cmp word [buf + 6], 0x1234              ; untouched
        jne f14
        mov qword [buf2], 0
        mov qword [buf2 + 8], 0
        mov edi, buf2 + 8                       ; DF = 1: down from buf2 + 8
        mov ecx, 2
        mov dx, 0xCFC                           ; PCI data: all ones
        std
        rep insd
        cld
        cmp rdi, buf2
        jne f15
        cmp dword [buf2 + 8], -1
        jne f16
        cmp dword [buf2 + 4], -1
        jne f16
        cmp dword [buf2], 0
        jne f16
        cmp dword [buf2 + 12], 0
        jne f16
        mov byte [buf3], 0x11
        mov edi, buf3
        xor ecx, ecx
        rep insb                                ; count 0: nothing
        cmp byte [buf3], 0x11
        jne f17
        cmp rdi, buf3
        jne f17
        mov dx, 0x3FD
        insb                                    ; no REP: one byte
        cmp byte [buf3], 0x60
        jne f17
        cmp rdi, buf3 + 1
        jne f17

        ; ---- ROOT-SYS-1: SYSCALL / SYSRET ----
        EXPECT_EXC syscall, 6, 20               ; IA32_EFER.SCE = 0: #UD
        EXPECT_EXC {o64 sysret}, 6, 20
        mov ecx, 0xC0000080
        rdmsr
        or eax, 1                               ; SCE
        wrmsr
        WRMSR64 0xC0000081, 0x0030000800000000  ; STAR: SYSCALL CS 0x08; SYSRET base 0x30
        WRMSR64 0xC0000082, sys_entry           ; LSTAR
        WRMSR64 0xC0000084, 0x400               ; FMASK: DF
        mov dword [fixup], .sc1
        std
        syscall
.sc1_next:
        EXIT 21                                 ; SYSCALL went on with the next instruction
.sc1:   cld
        cmp qword [sc_rcx], .sc1_next           ; RCX: the next instruction
        jne f22
        test qword [sc_r11], 0x400              ; R11: RFLAGS with DF
        jz f23
        test qword [sc_flags], 0x400            ; DF cleared by IA32_FMASK
        jnz f23
        cmp word [sc_cs], 0x08
        jne f24
        cmp word [sc_ss], 0x10
        jne f24
        ; SYSRET to CPL 3 (CS = 0x30 + 16 | 3, SS = 0x30 + 8 | 3), whose SYSCALL comes back
        mov dword [fixup], .sr1
        mov rcx, user_sysret
        mov r11, 0x202
        mov rsp, user_stack_top
        o64 sysret
        EXIT 25
.sr1:   mov rsp, stack_top
        cmp word [user_cs], 0x43
        jne f26
        cmp word [user_ss], 0x3B
        jne f26
        cmp qword [sc_rcx], user_sysret.next
        jne f27
        cmp qword [sc_r11], 0x202               ; the RFLAGS SYSRET loaded (IF = 1)
        jne f27
        cli
        mov rcx, 0x8000000000000000
        EXPECT_EXC {o64 sysret}, 13, 28         ; non-canonical RCX: #GP(0)
        USER user_sysret_cpl3, 29               ; SYSRET at CPL 3: #GP(0)
        cmp dword [rel_vec], 13
        jne f29

        ; ---- ROOT-PMC-1: RDPMC ----
        xor ecx, ecx
        EXPECT_EXC rdpmc, 13, 30                ; CPL 0, no counter in CPUID leaf 0xA: #GP(0)
        mov ecx, 0x40000000
        EXPECT_EXC rdpmc, 13, 30                ; no fixed counter either
        USER user_rdpmc, 31                     ; CPL 3, CR4.PCE = 0: #GP(0)
        cmp dword [rel_vec], 13
        jne f31
        cmp dword [rel_err], 0
        jne f31

        ; ---- ROOT-IO-2: the I/O permission bit map at CPL 3 > IOPL 0 ----
        USER user_out_allowed, 40               ; port 0x3F8 allowed: comes back by SYSCALL
        cmp dword [rel_vec], 0xFF
        jne f40
        USER user_out_denied, 41                ; port 0x80 denied: #GP(0)
        cmp dword [rel_vec], 13
        jne f41
        cmp dword [rel_err], 0
        jne f41
        USER user_ins_denied, 42                ; INSB from port 0x80: #GP(0)
        cmp dword [rel_vec], 13
        jne f42
        USER user_out_beyond, 43                ; port 0x510: beyond the TSS limit, #GP(0)
        cmp dword [rel_vec], 13
        jne f43
        mov esi, done_msg
        PUTS_BODY
        EXIT 0

f10:    EXIT 10
f11:    EXIT 11
f12:    EXIT 12
f13:    EXIT 13
f14:    EXIT 14
f15:    EXIT 15
f16:    EXIT 16
f17:    EXIT 17
f20:    EXIT 20
f22:    EXIT 22
f23:    EXIT 23
f24:    EXIT 24
f26:    EXIT 26
f27:    EXIT 27
f28:    EXIT 28
f29:    EXIT 29
f30:    EXIT 30
f31:    EXIT 31
f40:    EXIT 40
f41:    EXIT 41
f42:    EXIT 42
f43:    EXIT 43

; ---- CPL 3 routines ----
user_sysret:
        mov ax, cs
        mov [user_cs], ax
        mov ax, ss
        mov [user_ss], ax
        syscall
.next:  jmp $
user_sysret_cpl3:
        o64 sysret
        jmp $
user_rdpmc:
        xor ecx, ecx
        rdpmc
        jmp $
user_out_allowed:
        PUTC 'U'
        syscall
        jmp $
user_out_denied:
        mov al, 1
        out 0x80, al
        syscall
        jmp $
user_ins_denied:
        mov edi, buf3
        mov dx, 0x80
        insb
        syscall
        jmp $
user_out_beyond:
        mov dx, 0x510
        mov ax, 0
        out dx, ax
        syscall
        jmp $

; SYSCALL's target: record, then resume at [fixup] at CPL 0
sys_entry:
        mov [sc_rcx], rcx
        mov [sc_r11], r11
        mov rsp, stack_top
        pushfq
        pop rax
        mov [sc_flags], rax
        mov ax, cs
        mov [sc_cs], ax
        mov ax, ss
        mov [sc_ss], ax
        mov eax, [fixup]
        jmp rax

        SET_GATE_FN                     ; set_gate: IDT[rdi] <- a 64-bit interrupt gate to rax

ud_handler:
        mov dword [rel_vec], 6
        mov dword [rel_err], 0
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
unexpected:
        EXIT 99

        align 8
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
        ; 0x28: 64-bit TSS, base = tss, limit 0xE8 (the I/O bit map of ports 0..0x3FF)
        dw 0xE8
        dw tss - BASE
        db 0x10
        db 0x89
        db 0
        db 0
        dq 0
        dq 0x00CFF3000000FFFF   ; 0x38: user data
        dq 0x00AFFB000000FFFF   ; 0x40: user 64-bit code
gdt_end:
hello:  db "HELLO"
words:  dw 'W', 'X'
dwords: dd 'P', 'Q'
done_msg: db 13, 10, "root_insns: all passed", 13, 10, 0
        times 0x2000 - ($ - $$) db 0
file_end:
        absolute BASE + 0x2000
tss:    resb 4096
idt:    resb 4096
pml4:   resb 4096
pdpt:   resb 4096
pd:     resb 4096
buf:    resq 2
buf2:   resq 2
buf3:   resq 2
sc_rcx: resq 1
sc_r11: resq 1
sc_flags: resq 1
sc_cs:  resw 1
sc_ss:  resw 1
user_cs: resw 1
user_ss: resw 1
fixup:  resd 1
rel_vec: resd 1
rel_err: resd 1
        resb 8192
stack_top:
        resb 4096
user_stack_top:
mem_end:
