; Protected-mode guest (32-bit and 16-bit code) for tests/test_engine.c.
; Table of label addresses first (dq), then code, then the GDT.
bits 32
org 0x1000
tab:
    dq loop32, loop32_end, loop16, loop16_end, gdt, gdt_end, seq32, s_sti      ; 0-7
    dq s_popf, s_cpuid, s_iret, s_hlt, far32, far32_end, cli_at, s_out         ; 8-15
    times 256-($-$$) db 0

loop32:
    mov ecx, 100
    xor eax, eax
.l: add eax, 1
    add ebx, eax
    dec ecx
    jnz .l
    hlt
loop32_end:

seq32:
s_sti:
    sti
    pushfd
s_popf:
    popfd
s_cpuid:
    cpuid
s_out:
    out 0x80, al
    pushfd
    push cs
    push dword s_iret_ret
s_iret:
    iretd
s_iret_ret:
s_hlt:
    hlt

far32:
    jmp 0x08:.next          ; reloads CS from the GDT in guest memory
.next:
    mov ax, 0x10
    mov ds, ax
    mov ss, ax
    hlt
far32_end:

cli_at:
    cli
    hlt

bits 16
loop16:
    mov cx, 100
    xor ax, ax
.l: add ax, 1
    add bx, ax
    dec cx
    jnz .l
    hlt
loop16_end:

align 16
gdt:
    dq 0
    dq 0x00cf9b000000ffff   ; 0x08 code32 DPL0
    dq 0x00cf93000000ffff   ; 0x10 data32 DPL0
    dq 0x00009b000000ffff   ; 0x18 code16 DPL0
    dq 0x00cffb000000ffff   ; 0x20 code32 DPL3
    dq 0x00cff3000000ffff   ; 0x28 data32 DPL3
gdt_end:
