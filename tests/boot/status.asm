; Kernels that end a boot with each documented status (tests/test_boot.c):
; -DV_UNKNOWN_PORT, -DV_MMIO, -DV_TRIPLE, -DV_BUDGET, -DV_HANG, -DV_EXIT (code 7).
%include "elf.inc"
start:
        mov esi, hello
        PUTS_BODY
%ifdef V_UNKNOWN_PORT
        mov al, 1
        out 0x99, al            ; no device claims port 0x99
%elifdef V_MMIO
        mov eax, [0xFEC00000]   ; the I/O APIC is not modelled
%elifdef V_TRIPLE
        lidt [null_idt]         ; an empty IDT: #UD -> #GP -> #DF -> triple fault
        ud2
%elifdef V_BUDGET
.spin:  jmp .spin
%elifdef V_HANG
        cli
        hlt
%else
        EXIT 7
%endif
        EXIT 1
null_idt: dw 0
        dd 0
hello:  db "status kernel", 13, 10, 0
file_end:
mem_end:
