; 64-bit guest for tests/test_engine.c. Table of label addresses first (dq),
; then code, a GDT, and a page-aligned piece of code the paging test maps high.
bits 64
org 0x1000
tab:
    dq loop64, loop64_end, seq, s_sti, s_movss, s_popf, s_iret, s_cpuid       ; 0-7
    dq s_in, s_out, s_hlt, s_end, vmseq, s_vmcall, s_vmxon, div0              ; 8-15
    dq div0_at, int3_at, int3_after, ud2_at, step, step_end, smc, smc_patch   ; 16-23
    dq gp, gp_at, unm_jmp, unm_read, unm_read_at, pf, pf_at, gdt              ; 24-31
    dq gdt_end, high_code, s_vmfunc, s_invept, s_vmread, s_int1, 0, 0         ; 32-39
    times 512-($-$$) db 0

loop64:
    mov ecx, 100
    xor eax, eax
.l: add eax, 1
    add ebx, eax
    dec ecx
    jnz .l
    hlt
loop64_end:

seq:
    xor eax, eax
    mov ax, ss
s_sti:
    sti
s_movss:
    mov ss, ax
    pushfq
s_popf:
    popfq
    mov rax, rsp            ; iretq frame: SS, RSP, RFLAGS, CS, RIP
    push 0x10
    push rax
    pushfq
    push 0x08
    lea rax, [rel s_cpuid]
    push rax
s_iret:
    iretq
s_cpuid:
    cpuid
s_in:
    in al, 0x60
s_out:
    out 0x80, al
s_hlt:
    hlt
s_end:

vmseq:
    nop
s_vmcall:
    vmcall
s_vmxon:
    vmxon [rel vmxon_ptr]
s_vmfunc:
    vmfunc
s_invept:
    invept rax, [rel vmxon_ptr]
s_vmread:
    vmread rax, rbx
s_int1:
    int1
    hlt

div0:
    xor ecx, ecx
    mov eax, 1
div0_at:
    div ecx
int3_at:
    int3
int3_after:
    nop
ud2_at:
    ud2

step:
    sti
    nop
    sti
    nop
    hlt
step_end:

smc:
    mov ecx, 2
smc_loop:
smc_patch:
    nop
    nop
    mov word [rel smc_patch], 0xa20f   ; cpuid
    dec ecx
    jnz smc_loop
    hlt

gp:
    mov ax, 0x1234
gp_at:
    mov ds, ax

unm_jmp:
    mov rax, 0x10000000
    jmp rax

unm_read:
    mov rax, 0x10000000
unm_read_at:
    mov rbx, [rax]
    hlt

pf:
    mov rax, 0x3ff000        ; mapped guest-physical memory, not present in the page tables
pf_at:
    mov [rax], rbx
    hlt

align 16
gdt:
    dq 0
    dq 0x00af9b000000ffff   ; 0x08 code64
    dq 0x00cf93000000ffff   ; 0x10 data
gdt_end:
vmxon_ptr: dq 0x3000

align 4096
high_code:
    mov eax, 42
    lea rbx, [rel high_code]
    hlt
