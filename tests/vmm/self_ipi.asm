; tests/vmm/self_ipi.asm - a Multiboot VMM that checks self-IPIs through the xAPIC
; ICR, pending at VM entry, taken by the host after STI (SDM Vol. 3 "Interrupt Command
; Register (ICR)", "IRR, ISR and TMR", "Interrupts" in VMX non-root operation,
; "Interruptibility State" (STI in root operation); rules IW-9, BLK-STI-2, APIC-*).
; docs/boot-tests.md.
%include "vmm.inc"

%define VEC_HOST   0x60
%define VEC_GUEST  0x61
%define VEC_PHYS   0x62
%define SPIN_LIMIT 1000000

test_main:
        APIC_W APIC_SPIV, 0x1FF
        mov edi, VEC_HOST
        mov rsi, host_ipi_handler
        mov edx, 0x8E
        call set_gate
        mov edi, VEC_PHYS
        call set_gate

        ; 1. A fixed self-IPI (shorthand self) while the host has IF = 0 stays requested.
        ;    Bit 12 (delivery status) is read-only: written as 1, it still reads idle.
        APIC_W APIC_ICR_HI, 0
        APIC_W APIC_ICR_LO, 0x00041000 | VEC_HOST
        APIC_R APIC_ICR_LO
        and eax, 0x1000
        xor edx, edx
        CHECK "self-IPI: ICR delivery status reads idle"
        APIC_BIT APIC_IRR, VEC_HOST
        mov edx, 1
        CHECK "self-IPI with IF=0: the vector is requested (IRR)"
        mov rax, [host_irq_count]
        xor edx, edx
        CHECK "self-IPI with IF=0: not delivered"

        ; 2. VM entry with that interrupt pending and external-interrupt exiting
        ;    (no acknowledge): the exit comes before the first guest instruction.
        mov edi, PIN_EXT_INTR_EXITING
        call set_pin
        mov qword [G_RBX], 0x77
        GUEST_AT g_plain, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_EXT_INTR, "pending self-IPI at VM entry: exit reason 1"
        VMR F_GUEST_RIP
        mov rdx, g_plain
        CHECK "pending self-IPI at VM entry: the exit is before the first guest instruction"
        mov rax, [G_RBX]
        mov edx, 0x77
        CHECK "pending self-IPI at VM entry: no guest instruction ran"
        VMR F_EXIT_INTR_INFO
        shr eax, 31
        xor edx, edx
        CHECK "pending self-IPI at VM entry: exit interruption information not valid (no acknowledge)"
        APIC_BIT APIC_IRR, VEC_HOST
        mov edx, 1
        CHECK "pending self-IPI at VM entry: the vector is still requested"

        ; 3. The host takes it after STI's shadow: STI; NOP; CLI delivers it before CLI.
        sti
        nop
host_cli:
        cli
        mov rax, [host_irq_count]
        mov edx, 1
        CHECK "host STI; NOP: the interrupt was delivered once"
        mov rax, [host_irq_rip]
        mov rdx, host_cli
        CHECK "host STI; NOP: delivered after the instruction in the STI shadow"
        mov rax, [host_irq_vector_isr]
        mov edx, 1
        CHECK "host STI; NOP: the vector was in service in the handler"
        APIC_BIT APIC_IRR, VEC_HOST
        xor edx, edx
        CHECK "host STI; NOP: IRR clear afterwards"

        ; 4. A fixed IPI to the own APIC ID (physical destination, no shorthand).
        APIC_R APIC_ID
        and eax, 0xFF000000
        mov rcx, APIC_BASE_ADDR + APIC_ICR_HI
        mov [rcx], eax
        APIC_W APIC_ICR_LO, VEC_PHYS
        APIC_BIT APIC_IRR, VEC_PHYS
        mov edx, 1
        CHECK "IPI to the own APIC ID: the vector is requested"
        sti
        nop
        cli
        mov rax, [host_irq_count]
        mov edx, 2
        CHECK "IPI to the own APIC ID: delivered to the host once"

        ret

host_ipi_handler:
        push rax
        push rcx
        inc qword [host_irq_count]
        mov rax, [rsp + 16]
        mov [host_irq_rip], rax
        APIC_BIT APIC_ISR, VEC_HOST
        mov [host_irq_vector_isr], rax
        APIC_W APIC_EOI, 0
        pop rcx
        pop rax
        iretq

; ---- guest code ----
g_plain:
        mov ebx, 1
        vmcall

%macro KERNEL_BSS 0
host_irq_count:      resq 1
host_irq_rip:        resq 1
host_irq_vector_isr: resq 1
%endmacro
KERNEL_END
