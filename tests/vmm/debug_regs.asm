; tests/vmm/debug_regs.asm - a Multiboot VMM that checks which debug registers VM
; entry and VM exit load in root mode (SDM Vol. 3 "Loading Guest Control Registers,
; Debug Registers, and MSRs" and "Loading Host Control Registers, Debug Registers,
; MSRs"; rule ROOT-DR-1). docs/boot-tests.md.
;
; VM entry loads none of DR0-DR3 and DR6, and DR7 only with "load debug controls":
; the guest starts with the host's values. VM exit loads none of DR0-DR3 and DR6
; (the host keeps the guest's) and sets DR7 to 0x400.
%include "vmm.inc"

%define ENTRY_LOAD_DBG  (1 << 2)
%define EXIT_SAVE_DBG   (1 << 2)

test_main:
        ; 1. "load debug controls" = 0: the guest sees the host's DR0-DR3, DR6, DR7.
        xor edi, edi
        call set_entry
        xor edi, edi
        call set_exit
        mov rax, 0x1111
        mov dr0, rax
        mov rax, 0x2222
        mov dr1, rax
        mov rax, 0x3333
        mov dr2, rax
        mov rax, 0x4444
        mov dr3, rax
        mov rax, 0xFFFF0FF1
        mov dr6, rax
        mov rax, 0x700                      ; LE | GE | bit 10: no breakpoint armed
        mov dr7, rax
        GUEST_AT g_read, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_VMCALL, "load debug controls = 0: the guest runs to VMCALL"
        mov rax, [g_dr]
        mov edx, 0x1111
        CHECK "load debug controls = 0: guest DR0 is the host's"
        mov rax, [g_dr + 8]
        mov edx, 0x2222
        CHECK "load debug controls = 0: guest DR1 is the host's"
        mov rax, [g_dr + 16]
        mov edx, 0x3333
        CHECK "load debug controls = 0: guest DR2 is the host's"
        mov rax, [g_dr + 24]
        mov edx, 0x4444
        CHECK "load debug controls = 0: guest DR3 is the host's"
        mov rax, [g_dr + 32]
        mov edx, 0xFFFF0FF1
        CHECK "load debug controls = 0: guest DR6 is the host's"
        mov rax, [g_dr + 40]
        mov edx, 0x700
        CHECK "load debug controls = 0: guest DR7 is the host's"

        ; 2. After the exit: DR0-DR3 and DR6 are the guest's, DR7 is 0x400.
        mov rax, dr0
        mov edx, 0x5555
        CHECK "VM exit: host DR0 is the guest's"
        mov rax, dr3
        mov edx, 0x8888
        CHECK "VM exit: host DR3 is the guest's"
        mov rax, dr6
        mov edx, 0xFFFF0FF2
        CHECK "VM exit: host DR6 is the guest's"
        mov rax, dr7
        mov edx, 0x400
        CHECK "VM exit: host DR7 is 0x400"

        ; 3. "load debug controls" = 1: guest DR7 from the VMCS, DR0 still the host's.
        mov edi, ENTRY_LOAD_DBG
        call set_entry
        VMW F_GUEST_DR7, 0x500
        mov rax, 0x9999
        mov dr0, rax
        GUEST_AT g_read, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_VMCALL, "load debug controls = 1: the guest runs to VMCALL"
        mov rax, [g_dr]
        mov edx, 0x9999
        CHECK "load debug controls = 1: guest DR0 is the host's"
        mov rax, [g_dr + 40]
        mov edx, 0x500
        CHECK "load debug controls = 1: guest DR7 is GUEST_DR7"
        ret

; ---- guest code: record DR0-DR3, DR6, DR7, then change DR0, DR3, DR6, DR7 ----
g_read:
        mov rax, dr0
        mov [g_dr], rax
        mov rax, dr1
        mov [g_dr + 8], rax
        mov rax, dr2
        mov [g_dr + 16], rax
        mov rax, dr3
        mov [g_dr + 24], rax
        mov rax, dr6
        mov [g_dr + 32], rax
        mov rax, dr7
        mov [g_dr + 40], rax
        mov rax, 0x5555
        mov dr0, rax
        mov rax, 0x8888
        mov dr3, rax
        mov rax, 0xFFFF0FF2
        mov dr6, rax
        mov rax, 0x600
        mov dr7, rax
        vmcall

        align 8
g_dr:   times 6 dq 0

KERNEL_END
