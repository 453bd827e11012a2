; tests/vmm/forced_if.asm - a deliberately buggy Multiboot VMM for the VMM checker
; (`vtxref boot --vmm-check`, docs/vmm-check.md FORCED_INJECTION_IF; rules ENT-GS-1,
; INJ-5, BLK-STI-9). docs/boot-tests.md.
;
; The guest runs with RFLAGS.IF = 0 (inside a CLI section) and exits with VMCALL.
; The VMM has an external interrupt for it and, instead of arming interrupt-window
; exiting and injecting when the window opens, sets the guest's IF by VMWRITE to
; GUEST_RFLAGS and injects vector 0x40 on the next VMRESUME. The VM-entry check on
; RFLAGS.IF for an external-interrupt injection (SDM "Checks on Guest RIP and
; RFLAGS") then passes, and the processor delivers the interrupt inside code that
; disabled interrupts: hardware lets the bug through, so the kernel's own checks all
; pass (exit code 0). Only the VMM checker names it.
%include "vmm.inc"

test_main:
        mov edi, 0x40
        mov rsi, g_handler
        mov edx, 0x8E
        call set_gate
        ; 1. The guest disables interrupts and asks the VMM for something (VMCALL).
        GUEST_AT g_start, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_VMCALL, "the guest with IF = 0 exits with its VMCALL (18)"
        VMR F_GUEST_RFLAGS
        and eax, RFLAGS_IF
        xor edx, edx
        CHECK "the guest had IF = 0 at the VMCALL exit"
        ; 2. The bug: force IF = 1 and inject external interrupt 0x40 past the VMCALL.
        VMR F_GUEST_RFLAGS
        or rax, RFLAGS_IF
        VMW F_GUEST_RFLAGS, rax
        VMR F_GUEST_RIP
        add rax, 3                          ; VMCALL is 3 bytes
        VMW F_GUEST_RIP, rax
        VMW F_ENTRY_INTR_INFO, 0x80000040   ; valid, external interrupt, vector 0x40
        ENTER_EXPECT EXIT_VMCALL, "the forced injection passes the entry checks: the handler's VMCALL exits (18)"
        VMR F_GUEST_RIP
        mov rdx, g_handler_vmcall
        CHECK "hardware lets it through: the handler ran inside the guest's CLI section"
        ret

; ---- guest code ----
g_start:
        cli
        vmcall
g_after:
        mov ebx, 1                          ; the CLI section the interrupt breaks into
        vmcall
g_handler:
        mov r12, [rsp]
g_handler_vmcall:
        vmcall

KERNEL_END
