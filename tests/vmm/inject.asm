; tests/vmm/inject.asm - a Multiboot VMM that checks VM-entry event injection
; (SDM Vol. 3 "Event Injection", "Vectored-Event Injection"; rules INJ-4, INJ-6,
; INJ-7, INJ-8, INJ-9). docs/boot-tests.md.
;
; Each case injects one event; the guest handler records its stack frame in R12/R13
; and RFLAGS in R14 and executes VMCALL, so the host sees that the handler ran, with
; which frame, and that no guest instruction ran before it.
%include "vmm.inc"

%macro GATE 2
        mov edi, %1
        mov rsi, %2
        mov edx, 0x8E
        call set_gate
%endmacro

test_main:
        ; 1. External interrupt, vector 0x40 (type 0), RFLAGS.IF = 1.
        GATE 0x40, g_handler
        mov qword [G_RBX], 0x77
        GUEST_AT g_start, RFLAGS_FIXED | RFLAGS_IF, 0
        VMW F_ENTRY_INTR_INFO, 0x80000040
        ENTER_EXPECT EXIT_VMCALL, "external interrupt 0x40 injected: the handler's VMCALL exits (18)"
        VMR F_GUEST_RIP
        mov rdx, g_handler_vmcall
        CHECK "external interrupt 0x40: the exit is at the handler's VMCALL"
        mov rax, [G_R12]
        mov rdx, g_start
        CHECK "external interrupt 0x40: the pushed RIP is the entry RIP"
        mov rax, [G_R13]
        and eax, RFLAGS_IF
        mov edx, RFLAGS_IF
        CHECK "external interrupt 0x40: the pushed RFLAGS has IF = 1"
        mov rax, [G_R14]
        and eax, RFLAGS_IF
        xor edx, edx
        CHECK "external interrupt 0x40: the interrupt gate cleared IF"
        VMR F_GUEST_RSP
        mov rdx, guest_stack_top - 40
        CHECK "external interrupt 0x40: a 5-qword frame (SS, RSP, RFLAGS, CS, RIP) was pushed"
        mov rax, [G_RBX]
        mov edx, 0x77
        CHECK "external interrupt 0x40: no guest instruction ran before the handler"
        VMR F_ENTRY_INTR_INFO
        shr eax, 31
        xor edx, edx
        CHECK "external interrupt 0x40: the VM exit cleared the valid bit of the entry interruption information"
        VMR F_IDT_VECT_INFO
        shr eax, 31
        xor edx, edx
        CHECK "external interrupt 0x40: IDT-vectoring information not valid"

        ; 2. #GP (hardware exception, type 3) with error code 0x1230.
        GATE 13, g_handler_err
        GUEST_AT g_start, RFLAGS_FIXED, 0
        VMW F_ENTRY_INTR_INFO, 0x80000B0D   ; valid, deliver error code, type 3, vector 13
        VMW F_ENTRY_EXC_ERR, 0x1230
        ENTER_EXPECT EXIT_VMCALL, "#GP injected with an error code: the handler's VMCALL exits (18)"
        mov rax, [G_R12]
        mov edx, 0x1230
        CHECK "#GP injected: the pushed error code is the VM-entry exception error code"
        mov rax, [G_R13]
        mov rdx, g_start
        CHECK "#GP injected: the pushed RIP is the entry RIP"
        VMR F_GUEST_RSP
        mov rdx, guest_stack_top - 48
        CHECK "#GP injected: a 6-qword frame (with the error code) was pushed"
        mov edi, 13
        mov rsi, [exc_stubs + 13 * 8]
        mov edx, 0x8E
        call set_gate

        ; 3. Software interrupt INT 0x41 (type 4) with instruction length 2: the pushed
        ;    RIP is the entry RIP + 2.
        GATE 0x41, g_handler
        GUEST_AT g_int41, RFLAGS_FIXED, 0
        VMW F_ENTRY_INTR_INFO, 0x80000441
        VMW F_ENTRY_INSN_LEN, 2
        ENTER_EXPECT EXIT_VMCALL, "software interrupt 0x41 injected: the handler's VMCALL exits (18)"
        mov rax, [G_R12]
        mov rdx, g_int41_next
        CHECK "software interrupt 0x41: the pushed RIP is the entry RIP + the instruction length"

        ; 4. Software exception #BP (type 6) with instruction length 1, as INT3.
        GATE 3, g_handler
        GUEST_AT g_int3, RFLAGS_FIXED, 0
        VMW F_ENTRY_INTR_INFO, 0x80000603
        VMW F_ENTRY_INSN_LEN, 1
        ENTER_EXPECT EXIT_VMCALL, "software exception #BP injected: the handler's VMCALL exits (18)"
        mov rax, [G_R12]
        mov rdx, g_int3_next
        CHECK "software exception #BP: the pushed RIP is the entry RIP + 1"
        mov edi, 3
        mov rsi, [exc_stubs + 3 * 8]
        mov edx, 0x8E
        call set_gate

        ; 5. No injection (the valid bit was cleared): the guest runs from its RIP.
        mov qword [G_RBX], 0
        GUEST_AT g_start, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_VMCALL, "no injection: the guest runs to its own VMCALL (18)"
        VMR F_GUEST_RIP
        mov rdx, g_start_vmcall
        CHECK "no injection: the exit is at the guest's VMCALL, no handler ran"
        mov rax, [G_RBX]
        mov edx, 1
        CHECK "no injection: the guest's first instruction ran"
        ret

; ---- guest code ----
g_start:
        mov ebx, 1
g_start_vmcall:
        vmcall
g_int41:
        int 0x41
g_int41_next:
        vmcall
g_int3:
        int3
g_int3_next:
        vmcall
; handler for vectors without an error code: R12 = pushed RIP, R13 = pushed RFLAGS,
; R14 = RFLAGS in the handler
g_handler:
        mov r12, [rsp]
        mov r13, [rsp + 16]
        pushfq
        pop r14
g_handler_vmcall:
        vmcall
; handler for vectors with an error code: R12 = error code, R13 = pushed RIP
g_handler_err:
        mov r12, [rsp]
        mov r13, [rsp + 8]
        vmcall

KERNEL_END
