; tests/vmm/intr_window.asm - a Multiboot VMM that checks interrupt-window exiting
; (SDM Vol. 3 "Interrupt-Window Exiting", "Interruptibility State" (blocking by STI
; and by MOV SS), VMLAUNCH/VMRESUME in the instruction reference; rules IW-1, IW-2,
; IW-4, IW-6, BLK-STI-1/2/4, BLK-MSS-1/3, ENT-BASIC-3). docs/boot-tests.md.
;
; Each case re-enters the same guest with "interrupt-window exiting" = 1 and checks
; the exit reason (7), the guest RIP saved at the exit (the first instruction
; boundary at which RFLAGS.IF = 1 and there is no blocking by STI or MOV SS), and
; which guest instructions ran (RBX).
%include "vmm.inc"

test_main:
        mov edi, PROC_INTR_WINDOW
        call set_proc

        ; 1. RFLAGS.IF = 1, no blocking: the exit comes before the first instruction.
        mov qword [G_RBX], 0x77
        GUEST_AT g_open, RFLAGS_FIXED | RFLAGS_IF, 0
        ENTER_EXPECT EXIT_INTR_WINDOW, "IF=1, no blocking: exit reason 7 (interrupt window)"
        VMR F_GUEST_RIP
        mov rdx, g_open
        CHECK "IF=1, no blocking: the exit is at the guest's first instruction"
        mov rax, [G_RBX]
        mov edx, 0x77
        CHECK "IF=1, no blocking: no guest instruction ran"
        VMR F_EXIT_QUAL
        xor edx, edx
        CHECK "IF=1, no blocking: exit qualification 0"

        ; 2. RFLAGS.IF = 0 and STI: the window opens after the instruction that
        ;    follows STI (blocking by STI), not after STI itself.
        mov qword [G_RBX], 0
        GUEST_AT g_sti, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_INTR_WINDOW, "IF=0 then STI: exit reason 7"
        VMR F_GUEST_RIP
        mov rdx, g_sti_window
        CHECK "IF=0 then STI: the exit is after the instruction in the STI shadow"
        mov rax, [G_RBX]
        mov edx, 2
        CHECK "IF=0 then STI: the instruction in the STI shadow ran, the next did not"
        VMR F_GUEST_RFLAGS
        and eax, RFLAGS_IF
        mov edx, RFLAGS_IF
        CHECK "IF=0 then STI: saved RFLAGS.IF = 1"
        VMR F_GUEST_INTR_STATE
        and eax, INTR_BLOCK_STI | INTR_BLOCK_MOVSS
        xor edx, edx
        CHECK "IF=0 then STI: no blocking by STI or MOV SS saved"

        ;    The window stays open: without the control the guest runs on to VMCALL.
        xor edi, edi
        call set_proc
        ENTER_EXPECT EXIT_VMCALL, "IF=0 then STI, control cleared: VMRESUME runs to VMCALL (exit 18)"
        mov rax, [G_RBX]
        mov edx, 3
        CHECK "IF=0 then STI, control cleared: the guest resumed at the saved RIP"
        VMR F_GUEST_RIP
        mov rdx, g_sti_vmcall
        CHECK "VMCALL exit: guest RIP is the VMCALL"
        VMR F_EXIT_INSN_LEN
        mov edx, 3
        CHECK "VMCALL exit: instruction length 3"
        mov edi, PROC_INTR_WINDOW
        call set_proc

        ; 3. Blocking by STI given in the guest interruptibility state (IF = 1): one
        ;    guest instruction runs first.
        mov qword [G_RBX], 0
        GUEST_AT g_one, RFLAGS_FIXED | RFLAGS_IF, INTR_BLOCK_STI
        ENTER_EXPECT EXIT_INTR_WINDOW, "entry with blocking by STI: exit reason 7"
        VMR F_GUEST_RIP
        mov rdx, g_one_window
        CHECK "entry with blocking by STI: the exit is after one guest instruction"
        mov rax, [G_RBX]
        mov edx, 4
        CHECK "entry with blocking by STI: exactly one guest instruction ran"

        ; 4. Blocking by MOV SS given in the interruptibility state: the same.
        mov qword [G_RBX], 0
        GUEST_AT g_one, RFLAGS_FIXED | RFLAGS_IF, INTR_BLOCK_MOVSS
        ENTER_EXPECT EXIT_INTR_WINDOW, "entry with blocking by MOV SS: exit reason 7"
        VMR F_GUEST_RIP
        mov rdx, g_one_window
        CHECK "entry with blocking by MOV SS: the exit is after one guest instruction"
        mov rax, [G_RBX]
        mov edx, 4
        CHECK "entry with blocking by MOV SS: exactly one guest instruction ran"

        ; 5. IF = 0, STI; STI: the second STI (IF already 1) sets no new shadow, so the
        ;    window opens right after it.
        mov qword [G_RBX], 0x55
        GUEST_AT g_sti_sti, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_INTR_WINDOW, "IF=0 then STI; STI: exit reason 7"
        VMR F_GUEST_RIP
        mov rdx, g_sti_sti_window
        CHECK "IF=0 then STI; STI: the exit is after the second STI"
        mov rax, [G_RBX]
        mov edx, 0x55
        CHECK "IF=0 then STI; STI: the instruction after them did not run"

        ; 6. IF = 0 throughout: no exit until the guest's VMCALL.
        mov qword [G_RBX], 0
        GUEST_AT g_closed, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_VMCALL, "IF=0 throughout: no interrupt-window exit, VMCALL exits (18)"
        mov rax, [G_RBX]
        mov edx, 9
        CHECK "IF=0 throughout: the guest ran to its VMCALL"

        ; 7. VMRESUME in the host's own MOV SS shadow fails with VM-instruction error 26
        ;    (VM entry with events blocked by MOV SS); a later VMRESUME works.
        GUEST_AT g_open, RFLAGS_FIXED | RFLAGS_IF, 0
        call vm_resume_after_mov_ss
        mov edx, 2
        CHECK "VMRESUME after MOV SS in root operation: VMfailValid"
        VMR F_INSN_ERROR
        mov edx, 26
        CHECK "VMRESUME after MOV SS in root operation: VM-instruction error 26"
        ENTER_EXPECT EXIT_INTR_WINDOW, "VMRESUME outside the MOV SS shadow: the entry succeeds (exit 7)"
        ret

; ---- guest code (64-bit, CPL 0) ----
g_open:
        mov ebx, 1
        vmcall
g_sti:
        mov ebx, 1
        sti
        mov ebx, 2                          ; in the STI shadow
g_sti_window:
        mov ebx, 3
g_sti_vmcall:
        vmcall
g_one:
        mov ebx, 4
g_one_window:
        mov ebx, 5
        vmcall
g_sti_sti:
        sti
        sti
g_sti_sti_window:
        mov ebx, 6
        vmcall
g_closed:
        mov ebx, 7
        nop
        mov ebx, 8
        nop
        mov ebx, 9
        vmcall

KERNEL_END
