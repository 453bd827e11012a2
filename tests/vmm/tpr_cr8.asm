; tests/vmm/tpr_cr8.asm - a Multiboot VMM that checks that a guest's MOV to and
; from CR8 without "use TPR shadow" and without CR8-load/store exiting reaches
; the local xAPIC's TPR (SDM Vol. 3 "Task Priority Register" (CR8 = TPR[7:4]);
; rule EXE-CR8-1). docs/boot-tests.md.
%include "vmm.inc"

%define APIC_TPR 0x080

test_main:
        APIC_W APIC_SPIV, 0x1FF
        xor edi, edi
        call set_proc                       ; no CR8 exiting, no TPR shadow
        mov eax, 0xF
        mov cr8, rax                        ; host: TPR = 0xF0
        GUEST_AT g_cr8, RFLAGS_FIXED, 0
        ENTER_EXPECT EXIT_VMCALL, "guest MOV CR8: the guest runs to VMCALL"
        mov rax, [G_RBX]
        mov edx, 0xF
        CHECK "guest MOV from CR8 reads the host's TPR class 0xF"
        APIC_R APIC_TPR
        mov edx, 0x50
        CHECK "guest MOV to CR8 = 5: the xAPIC TPR is 0x50"
        mov rax, cr8
        mov edx, 5
        CHECK "guest MOV to CR8 = 5: the host's CR8 reads 5"
        ret

g_cr8:
        mov rbx, cr8
        mov eax, 5
        mov cr8, rax
        vmcall

KERNEL_END
