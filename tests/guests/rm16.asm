; Real-mode guest for tests/test_engine.c. The first 256 bytes are a table of
; label addresses (dq) that the test reads; code follows.
bits 16
org 0x1000
tab:
    dq loop16, loop16_end, seq, s_sti1, s_nop1, s_sti2, s_nop2, s_movss   ; 0-7
    dq s_popss, s_popf, s_iret, s_hlt, s_end, div0, div0_at, int3_at     ; 8-15
    dq int3_after, ud2_at, vmseq, s_vmcall, s_vmxon, s_cpuid, 0, 0       ; 16-23
    times 256-($-$$) db 0

loop16:
    mov cx, 100
    xor ax, ax
.l: add ax, 1
    add bx, ax
    dec cx
    jnz .l
    hlt
loop16_end:

seq:
    xor ax, ax
s_sti1:
    sti
s_nop1:
    nop
s_sti2:
    sti
s_nop2:
    nop
    cli
s_movss:
    mov ss, ax
    push ax
s_popss:
    pop ss
    pushf
s_popf:
    popf
s_cpuid:
    cpuid
    pushf
    push cs
    push word s_iret_ret
s_iret:
    iret
s_iret_ret:
s_hlt:
    hlt
s_end:

div0:
    xor cx, cx
    mov ax, 1
div0_at:
    div cx
int3_at:
    int3
int3_after:
    nop
ud2_at:
    ud2

vmseq:
    nop
s_vmcall:
    vmcall
s_vmxon:
    vmxon [vmxon_ptr]
    hlt
align 8
vmxon_ptr: dq 0x3000
