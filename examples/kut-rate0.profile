# vtxref CPU profile (format: docs/profiles.md)
# kvm-unit-tests' vmx_preemption_timer_tf_test on vtxref: `scripts/kut.sh KUT_DIR --profile examples/kut-rate0.profile
# --groups vmx_preemption_timer_tf_test` (with the rate of `server`, 5, the test needs about 16 G cycles).
name = kut-rate0
description = The server profile with the VMX-preemption timer ticking at every TSC cycle (IA32_VMX_MISC[4:0] = 0), for kvm-unit-tests' vmx_preemption_timer_tf_test (10000 VM entries of 50000 timer ticks)
physical-address-width = 46

# Capability MSRs (SDM Vol. 3 Appendix A)
IA32_VMX_BASIC               = 0x00da040000000004
IA32_VMX_PINBASED_CTLS       = 0x0000007f00000016
IA32_VMX_PROCBASED_CTLS      = 0xfff9fffe0401e172
IA32_VMX_EXIT_CTLS           = 0x007fefff00036dff
IA32_VMX_ENTRY_CTLS          = 0x0000dfff000011ff
IA32_VMX_MISC                = 0x00000000200401e0
IA32_VMX_CR0_FIXED0          = 0x0000000080000021
IA32_VMX_CR0_FIXED1          = 0x00000000ffffffff
IA32_VMX_CR4_FIXED0          = 0x0000000000002000
IA32_VMX_CR4_FIXED1          = 0x00000000003767ff
IA32_VMX_VMCS_ENUM           = 0x000000000000002e
IA32_VMX_PROCBASED_CTLS2     = 0x02011afe00000000
IA32_VMX_EPT_VPID_CAP        = 0x00000f0106134141
IA32_VMX_TRUE_PINBASED_CTLS  = 0x0000007f00000016
IA32_VMX_TRUE_PROCBASED_CTLS = 0xfff9fffe04006172
IA32_VMX_TRUE_EXIT_CTLS      = 0x007fefff00036dfb
IA32_VMX_TRUE_ENTRY_CTLS     = 0x0000dfff000011fb

# Behaviour the SDM leaves to the implementation (rules catalogue section 0.1)
CFG-STI-NMI        = on   # Blocking by STI also blocks NMIs and NMI VM exits for one instruction
CFG-STI-NW         = on   # Blocking by STI suppresses NMI-window exits
CFG-STI-SMI        = off  # Blocking by STI delays SMIs
CFG-MSS-NMI        = on   # Blocking by MOV SS blocks NMIs
CFG-EXTINT-SHADOW  = on   # With external-interrupt exiting, STI/MOV-SS blocking delays external-interrupt exits
CFG-NMI-STI-ENTRY  = on   # VM entry injecting an NMI with blocking by STI fails (reason 33, qualification 3)
CFG-MSS-CHAIN      = off  # A MOV SS inside MOV-SS blocking re-arms the blocking
CFG-PT-SHADOW      = off  # STI/MOV-SS blocking delays VMX-preemption-timer exits
