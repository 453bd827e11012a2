; tests/vmm/apic_timer.asm - a Multiboot VMM that checks the xAPIC timer as a source
; of external interrupts in VMX operation (SDM Vol. 3 "APIC Timer", "Interrupts" in
; VMX non-root operation (external-interrupt exiting), "Information for VM Exits Due
; to Vectored Events" (acknowledge interrupt on exit); rules IW-9, APIC-*).
; docs/boot-tests.md.
%include "vmm.inc"

%define TIMER_VECTOR 0x50
%define TIMER_COUNT  10000
%define SPIN_LIMIT   10000000

test_main:
        mov ecx, MSR_APIC_BASE
        rdmsr
        and eax, 0xFFFFF800
        mov edx, APIC_BASE_ADDR | 0x800
        CHECK "IA32_APIC_BASE: xAPIC enabled at 0xFEE00000"
        APIC_W APIC_SPIV, 0x1FF             ; software-enabled, spurious vector 0xFF
        APIC_W APIC_TDCR, 0xB               ; divide by 1
        APIC_W APIC_LVTT, TIMER_VECTOR      ; one-shot, unmasked
        mov edi, TIMER_VECTOR
        mov rsi, host_timer_handler
        mov edx, 0x8E
        call set_gate

        ; 1. External-interrupt exiting with acknowledge interrupt on exit: the timer
        ;    interrupt ends the guest's loop (guest RFLAGS.IF = 0 does not block it) and
        ;    its vector is in the exit interruption information.
        mov edi, PIN_EXT_INTR_EXITING
        call set_pin
        mov edi, EXIT_ACK_INTR
        call set_exit
        mov qword [G_RBX], 0
        GUEST_AT g_spin, RFLAGS_FIXED, 0
        APIC_W APIC_TMICT, TIMER_COUNT
        ENTER_EXPECT EXIT_EXT_INTR, "timer, acknowledge on exit: exit reason 1 (external interrupt)"
        VMR F_EXIT_INTR_INFO
        mov edx, 0x80000000 | TIMER_VECTOR
        CHECK "timer, acknowledge on exit: exit interruption information = valid, external interrupt, vector 0x50"
        mov rax, [G_RBX]
        test rax, rax
        setnz al
        movzx eax, al
        mov edx, 1
        CHECK "timer, acknowledge on exit: the guest ran before the timer fired"
        mov rax, [G_RBX]
        cmp rax, SPIN_LIMIT
        setb al
        movzx eax, al
        mov edx, 1
        CHECK "timer, acknowledge on exit: the exit came before the guest's loop ended"
        APIC_BIT APIC_ISR, TIMER_VECTOR
        mov edx, 1
        CHECK "timer, acknowledge on exit: the vector is in service (ISR) after the exit"
        APIC_BIT APIC_IRR, TIMER_VECTOR
        xor edx, edx
        CHECK "timer, acknowledge on exit: the vector is no longer requested (IRR)"
        APIC_R APIC_TMCCT
        xor edx, edx
        CHECK "timer, acknowledge on exit: one-shot current count is 0 after expiry"
        APIC_W APIC_EOI, 0
        APIC_BIT APIC_ISR, TIMER_VECTOR
        xor edx, edx
        CHECK "timer, acknowledge on exit: EOI clears the ISR bit"
        mov rax, [host_irq_count]
        xor edx, edx
        CHECK "timer, acknowledge on exit: the host's handler did not run"

        ; 2. Without acknowledge on exit: the exit interruption information is not
        ;    valid, the interrupt stays requested, and the host takes it through its own
        ;    IDT after STI's shadow.
        xor edi, edi
        call set_exit
        mov qword [G_RBX], 0
        GUEST_AT g_spin, RFLAGS_FIXED, 0
        APIC_W APIC_TMICT, TIMER_COUNT
        ENTER_EXPECT EXIT_EXT_INTR, "timer, no acknowledge: exit reason 1"
        VMR F_EXIT_INTR_INFO
        shr eax, 31
        xor edx, edx
        CHECK "timer, no acknowledge: exit interruption information not valid"
        APIC_BIT APIC_IRR, TIMER_VECTOR
        mov edx, 1
        CHECK "timer, no acknowledge: the vector is still requested (IRR)"
        sti
        nop
        cli
        mov rax, [host_irq_count]
        mov edx, 1
        CHECK "timer, no acknowledge: the host took the interrupt after STI; NOP"
        APIC_BIT APIC_ISR, TIMER_VECTOR
        xor edx, edx
        CHECK "timer, no acknowledge: the host's EOI cleared the ISR bit"

        ; 3. In VMX root operation, HLT with IF = 1 waits for the timer.
        APIC_W APIC_TMICT, TIMER_COUNT
        sti
        hlt
        cli
        mov rax, [host_irq_count]
        mov edx, 2
        CHECK "root-mode HLT: the timer interrupt woke the host and its handler ran"
        ret

host_timer_handler:
        push rcx
        inc qword [host_irq_count]
        APIC_W APIC_EOI, 0
        pop rcx
        iretq

; ---- guest code ----
g_spin:
        inc rbx
        cmp rbx, SPIN_LIMIT
        jb g_spin
        vmcall

%macro KERNEL_BSS 0
host_irq_count:      resq 1
%endmacro
KERNEL_END
