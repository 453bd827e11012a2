; tests/vmm/nmi_window.asm - a Multiboot VMM that checks NMI-window exiting with
; virtual NMIs (SDM Vol. 3 "NMI-Window Exiting", "Interruptibility State", "Changes
; to Instruction Behavior in VMX Non-Root Operation" (IRET and virtual-NMI blocking);
; rules NW-2, NW-3, NW-6, NW-7, NW-8, INJ-13). docs/boot-tests.md.
;
; "NMI exiting" = "virtual NMIs" = "NMI-window exiting" = 1. The exit (reason 8)
; must come at the first instruction boundary with no virtual-NMI blocking and no
; blocking by MOV SS; an IRET executed by the guest clears virtual-NMI blocking.
%include "vmm.inc"

test_main:
        mov edi, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS
        call set_pin
        mov edi, PROC_NMI_WINDOW
        call set_proc
        mov edi, 2
        mov rsi, g_nmi_handler
        mov edx, 0x8E
        call set_gate

        ; 1. No blocking: the exit comes before the first guest instruction (RFLAGS.IF
        ;    does not matter for NMIs).
        mov qword [G_RBX], 0x77
        GUEST_AT g_plain, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_NMI_WINDOW, "no blocking: exit reason 8 (NMI window)"
        VMR F_GUEST_RIP
        mov rdx, g_plain
        CHECK "no blocking: the exit is at the guest's first instruction"
        mov rax, [G_RBX]
        mov edx, 0x77
        CHECK "no blocking: no guest instruction ran"

        ; 2. Blocking by NMI (virtual-NMI blocking) at entry: the window opens at the
        ;    boundary after the guest's IRET, not before.
        mov qword [G_RBX], 0
        GUEST_AT g_iret, RFLAGS_FIXED, INTR_BLOCK_NMI
        ENTER_EXPECT EXIT_NMI_WINDOW, "virtual-NMI blocking, guest IRET: exit reason 8"
        VMR F_GUEST_RIP
        mov rdx, g_iret_after
        CHECK "virtual-NMI blocking, guest IRET: the exit is right after the IRET"
        mov rax, [G_RBX]
        mov edx, 1
        CHECK "virtual-NMI blocking, guest IRET: the instructions before the IRET ran, none after"
        VMR F_GUEST_INTR_STATE
        and eax, INTR_BLOCK_NMI
        xor edx, edx
        CHECK "virtual-NMI blocking, guest IRET: no blocking by NMI saved"

        ; 3. Blocking by MOV SS at entry: one instruction runs first.
        mov qword [G_RBX], 0
        GUEST_AT g_one, RFLAGS_FIXED, INTR_BLOCK_MOVSS
        ENTER_EXPECT EXIT_NMI_WINDOW, "entry with blocking by MOV SS: exit reason 8"
        VMR F_GUEST_RIP
        mov rdx, g_one_window
        CHECK "entry with blocking by MOV SS: the exit is after one guest instruction"
        mov rax, [G_RBX]
        mov edx, 4
        CHECK "entry with blocking by MOV SS: exactly one guest instruction ran"

        ; 4. An injected NMI: delivered through vector 2 with virtual-NMI blocking; the
        ;    handler runs once, and its IRET opens the window at the interrupted RIP.
        mov qword [G_RBX], 0x77
        mov qword [G_R12], 0
        GUEST_AT g_after_nmi, RFLAGS_FIXED, 0
        VMW F_ENTRY_INTR_INFO, 0x80000202   ; valid, NMI (type 2), vector 2
        ENTER_EXPECT EXIT_NMI_WINDOW, "injected NMI: exit reason 8 after the handler's IRET"
        mov rax, [G_R12]
        mov edx, 1
        CHECK "injected NMI: the guest NMI handler ran exactly once"
        VMR F_GUEST_RIP
        mov rdx, g_after_nmi
        CHECK "injected NMI: the exit is at the RIP the handler returned to"
        mov rax, [G_RBX]
        mov edx, 0x77
        CHECK "injected NMI: no instruction after the handler ran"
        VMR F_IDT_VECT_INFO
        shr eax, 31
        xor edx, edx
        CHECK "injected NMI: IDT-vectoring information not valid"
        VMR F_GUEST_INTR_STATE
        and eax, INTR_BLOCK_NMI
        xor edx, edx
        CHECK "injected NMI: no blocking by NMI saved"

        ; 5. Control cleared: the guest continues to its VMCALL.
        xor edi, edi
        call set_proc
        ENTER_EXPECT EXIT_VMCALL, "NMI-window exiting cleared: VMRESUME runs to VMCALL (exit 18)"
        mov rax, [G_RBX]
        mov edx, 7
        CHECK "NMI-window exiting cleared: the guest resumed at the saved RIP"
        mov rax, [G_R12]
        mov edx, 1
        CHECK "NMI-window exiting cleared: the NMI handler did not run again"
        ret

; ---- guest code ----
g_nmi_handler:
        inc r12
        iretq
g_plain:
        mov ebx, 1
        vmcall
g_iret:
        mov ebx, 1
        mov rax, rsp
        push SEL_DATA                       ; SS
        push rax                            ; RSP
        pushfq
        push SEL_CODE64                     ; CS
        mov rax, g_iret_after
        push rax                            ; RIP
        iretq
g_iret_after:
        mov ebx, 2
        vmcall
g_one:
        mov ebx, 4
g_one_window:
        mov ebx, 5
        vmcall
g_after_nmi:
        mov ebx, 7
        vmcall

KERNEL_END
