; tests/vmm/ipi_running.asm - a Multiboot VMM that checks that a self-IPI sent
; through the xAPIC ICR, or a timer armed through TMICT, is taken while the code
; that wrote the register runs on: by the host with IF = 1 (through its IDT), and
; by the guest, with external-interrupt exiting and acknowledge on exit (SDM Vol. 3
; "Interrupt Command Register (ICR)", "APIC Timer", "Interrupts" in VMX non-root
; operation; rules IW-9, APIC-*). docs/boot-tests.md.
;
; It failed until the model ended the engine's run after a write to the xAPIC page
; (root branch, BUS-MMIO-1/2): docs/boot-tests.md "Fixed by these kernels".
%include "vmm.inc"

%define VEC_HOST   0x60
%define VEC_GUEST  0x61
%define TIMER_VECTOR 0x50
%define SPIN_LIMIT 1000000

test_main:
        APIC_W APIC_SPIV, 0x1FF
        mov edi, VEC_HOST
        mov rsi, host_ipi_handler
        mov edx, 0x8E
        call set_gate

        ; 1. A self-IPI sent while the host has IF = 1 is taken while the host runs on
        ;    (before its loop ends), not only when the host stops for another reason.
        xor ebx, ebx
        sti
        APIC_W APIC_ICR_LO, 0x00040000 | VEC_HOST
.spin:
        cmp qword [host_irq_count], 1
        je .taken
        inc rbx
        cmp rbx, SPIN_LIMIT
        jb .spin
.taken:
        cli
        mov rax, [host_irq_count]
        mov edx, 1
        CHECK "self-IPI with IF=1: delivered to the host"
        cmp rbx, SPIN_LIMIT
        setb al
        movzx eax, al
        mov edx, 1
        CHECK "self-IPI with IF=1: delivered while the host's loop ran"

        ; 2. The same for the xAPIC timer armed while the host runs with IF = 1
        ;    (one-shot, divide by 1, initial count 100): the expiry is taken during
        ;    the loop (kvm-unit-tests' "interrupt" test does this with TMICT = 1).
        ;    First take what case 1 left requested (STI; NOP delivers it).
        sti
        nop
        cli
        mov edi, TIMER_VECTOR
        mov rsi, host_timer_handler
        mov edx, 0x8E
        call set_gate
        APIC_W APIC_TDCR, 0xB
        APIC_W APIC_LVTT, TIMER_VECTOR
        xor ebx, ebx
        sti
        APIC_W APIC_TMICT, 100
.tspin:
        cmp qword [host_timer_count], 1
        je .ttaken
        inc rbx
        cmp rbx, SPIN_LIMIT
        jb .tspin
.ttaken:
        cli
        cmp rbx, SPIN_LIMIT
        setb al
        movzx eax, al
        mov edx, 1
        CHECK "timer armed with IF=1: its interrupt was taken while the host's loop ran"

        ; 3. The guest sends the self-IPI itself (the xAPIC page is not virtualized);
        ;    with acknowledge on exit the vector is in the exit interruption information.
        mov edi, PIN_EXT_INTR_EXITING
        call set_pin
        mov edi, EXIT_ACK_INTR
        call set_exit
        mov qword [G_RBX], 0
        GUEST_AT g_send_ipi, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_EXT_INTR, "guest self-IPI: exit reason 1"
        VMR F_EXIT_INTR_INFO
        mov edx, 0x80000000 | VEC_GUEST
        CHECK "guest self-IPI: exit interruption information = valid, external interrupt, vector 0x61"
        mov rax, [G_RBX]
        cmp rax, SPIN_LIMIT
        setb al
        movzx eax, al
        mov edx, 1
        CHECK "guest self-IPI: the exit came before the guest's loop ended"
        APIC_BIT APIC_ISR, VEC_GUEST
        mov edx, 1
        CHECK "guest self-IPI: the vector is in service after the acknowledging exit"
        APIC_W APIC_EOI, 0
        APIC_BIT APIC_ISR, VEC_GUEST
        xor edx, edx
        CHECK "guest self-IPI: EOI clears the ISR bit"

        ret

host_ipi_handler:
        push rcx
        inc qword [host_irq_count]
        APIC_W APIC_EOI, 0
        pop rcx
        iretq

host_timer_handler:
        push rcx
        inc qword [host_timer_count]
        APIC_W APIC_EOI, 0
        pop rcx
        iretq

; ---- guest code ----
g_send_ipi:
        mov rcx, APIC_BASE_ADDR + APIC_ICR_HI
        mov dword [rcx], 0
        mov rcx, APIC_BASE_ADDR + APIC_ICR_LO
        mov dword [rcx], 0x00040000 | VEC_GUEST
.spin:
        inc rbx
        cmp rbx, SPIN_LIMIT
        jb .spin
        vmcall

%macro KERNEL_BSS 0
host_irq_count:      resq 1
host_timer_count:    resq 1
%endmacro
KERNEL_END
