; The local APIC seen from the middle of an engine run (tests/test_boot.c,
; BUS-MMIO-1/2). 32-bit protected mode, the xAPIC at 0xFEE00000.
; -DV_TMCCT: one-shot timer, divide by 1, a large initial count; two reads of
;   the current count 1002 instructions apart (1000 NOPs, cost 1 cycle each):
;   exit code = first - second - 1000 (2 when the reads see the exact cycle
;   clock), 99 when outside 0..98.
; -DV_IPI: IF = 1, a fixed self-IPI (vector 0x40) by an ICR write, then a
;   counting loop; the handler exits with the loop count it interrupted (at most
;   a few iterations when the write is noticed at once; 99 when the loop ran out).
; -DV_BOUNDARY: IF = 1, the same self-IPI written by an ICR write followed by
;   20 INC ECX in one straight line (one translation block): the handler exits
;   with ECX, the number of INCs that ran before the interrupt: 0 when it is
;   recognised at the boundary right after the writing instruction (BUS-MMIO-2).
; -DV_NMI: IF = 0, an NMI self-IPI (ICR delivery mode NMI, shorthand self): the
;   handler sends a second one and spins; NMIs stay blocked until its IRET, so
;   the second is held pending and delivered right after the IRET, at the
;   instruction the IRET returned to (ROOT-NMI-1). Exit 0 when all holds; 20 the
;   two NMIs never came, 21 the second came inside the first handler, 22 the
;   second did not come right after the IRET, 23 the first did not interrupt
;   the instruction after the ICR write.
%include "elf.inc"
APIC equ 0xFEE00000
start:
        mov esp, 0x80000
        mov esi, hello
        PUTS_BODY
        mov dword [APIC + 0xF0], 0x1FF          ; SPIV: software enable
%ifdef V_TMCCT
        mov dword [APIC + 0x3E0], 0xB           ; TDCR: divide by 1
        mov dword [APIC + 0x320], 0x10040       ; LVTT: masked, one-shot
        mov dword [APIC + 0x380], 0x10000000    ; TMICT
        mov eax, [APIC + 0x390]                 ; TMCCT, first read
        mov ebx, eax
        times 1000 nop
        mov eax, [APIC + 0x390]                 ; second read
        sub ebx, eax
        sub ebx, 1000
        cmp ebx, 98
        jbe .code
        mov ebx, 99
.code:  mov eax, ebx
        mov dx, 0xF4
        out dx, eax
        hlt
%elifdef V_NMI
        lgdt [gdt_desc]
        lidt [idt_desc]
        IDT_GATE32 idt, 2, nmi_handler, 0x10    ; IDT[2]: CS 0x10
        cli                                     ; IF does not mask NMIs
        mov dword [APIC + 0x300], 0x44400       ; ICR: NMI, shorthand self
.after: mov esi, 100000
.wait:  cmp dword [count], 2
        je .done
        dec esi
        jnz .wait
        EXIT 20
.done:  cmp dword [blocked_ok], 1
        jne .f21
        mov eax, [first_ret]
        cmp eax, [second_ret]
        jne .f22
        cmp dword [first_ret], .after
        jne .f23
        EXIT 0
.f21:   EXIT 21
.f22:   EXIT 22
.f23:   EXIT 23
nmi_handler:
        inc dword [count]
        cmp dword [count], 1
        jne .second
        mov eax, [esp]                          ; the interrupted EIP
        mov [first_ret], eax
        mov dword [APIC + 0x300], 0x44400       ; a second NMI while this one is handled
        mov edx, 1000
.spin:  dec edx
        jnz .spin
        cmp dword [count], 1                    ; still blocked by NMI
        jne .nested
        mov dword [blocked_ok], 1
        iret
.nested:
        EXIT 21
.second:
        mov eax, [esp]
        mov [second_ret], eax
        iret
        align 8
gdt:    dq 0, 0
        dq 0x00CF9B000000FFFF                   ; 0x10: flat 32-bit code
        dq 0x00CF93000000FFFF                   ; 0x18: flat data
gdt_desc: dw 4 * 8 - 1
        dd gdt
idt_desc: dw 256 * 8 - 1
        dd idt
count:      dd 0
blocked_ok: dd 0
first_ret:  dd 0
second_ret: dd 0
%else
        lgdt [gdt_desc]
        lidt [idt_desc]
        IDT_GATE32 idt, 0x40, handler, 0x10     ; IDT[0x40]: CS 0x10
        xor ecx, ecx
        sti
        nop                                     ; the STI shadow ends here (a one-instruction run)
        mov eax, 1
        add eax, 1
        mov dword [APIC + 0x300], 0x44040       ; ICR: fixed, vector 0x40, shorthand self
%ifdef V_BOUNDARY
        times 20 inc ecx                        ; one straight line after the write
%endif
.loop:  inc ecx
        cmp ecx, 100000
        jne .loop
        EXIT 99
handler:
        mov eax, ecx
        cmp eax, 98
        jbe .out
        mov eax, 98
.out:   mov dx, 0xF4
        out dx, eax
        hlt
        align 8
gdt:    dq 0, 0
        dq 0x00CF9B000000FFFF                   ; 0x10: flat 32-bit code
        dq 0x00CF93000000FFFF                   ; 0x18: flat data
gdt_desc: dw 4 * 8 - 1
        dd gdt
idt_desc: dw 256 * 8 - 1
        dd idt
%endif
hello:  db "apic clock kernel", 13, 10, 0
file_end:
        align 4096
idt:    resb 256 * 8
mem_end:
