; tests/vmm/ipi_running.asm - a Multiboot VMM that checks that a self-IPI sent
; through the xAPIC ICR is taken while the code that sent it runs on: by the host
; with IF = 1 (through its IDT), and by the guest, with external-interrupt exiting
; and acknowledge on exit (SDM Vol. 3 "Interrupt Command Register (ICR)", "Interrupts"
; in VMX non-root operation; rules IW-9, APIC-*). docs/boot-tests.md.
;
; Expected to fail until the model samples the interrupt source after an MMIO write
; to the xAPIC page (tests/vmm/CMakeLists.txt: WILL_FAIL, docs/boot-tests.md).
%include "vmm.inc"

%define VEC_HOST   0x60
%define VEC_GUEST  0x61
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

        ; 2. The guest sends the self-IPI itself (the xAPIC page is not virtualized);
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
%endmacro
KERNEL_END
