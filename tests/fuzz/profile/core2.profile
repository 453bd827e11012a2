# vtxref CPU profile (format: docs/profiles.md)
name = core2
description = Early-VMX part (Core 2 / Penryn class): no TRUE MSRs, no secondary controls, no preemption timer, no MTF, no unrestricted guest
physical-address-width = 36

# Capability MSRs (SDM Vol. 3 Appendix A)
IA32_VMX_BASIC               = 0x001a04000000000d
IA32_VMX_PINBASED_CTLS       = 0x0000003f00000016
IA32_VMX_PROCBASED_CTLS      = 0x77f9fffe0401e172
IA32_VMX_EXIT_CTLS           = 0x0003efff00036dff
IA32_VMX_ENTRY_CTLS          = 0x00001fff000011ff
IA32_VMX_MISC                = 0x0000000000040040
IA32_VMX_CR0_FIXED0          = 0x0000000080000021
IA32_VMX_CR0_FIXED1          = 0x00000000ffffffff
IA32_VMX_CR4_FIXED0          = 0x0000000000002000
IA32_VMX_CR4_FIXED1          = 0x00000000000067ff
IA32_VMX_VMCS_ENUM           = 0x000000000000002a

# Behaviour the SDM leaves to the implementation (rules catalogue section 0.1)
CFG-STI-NMI        = on   # Blocking by STI also blocks NMIs and NMI VM exits for one instruction
CFG-STI-NW         = on   # Blocking by STI suppresses NMI-window exits
CFG-STI-SMI        = off  # Blocking by STI delays SMIs
CFG-MSS-NMI        = on   # Blocking by MOV SS blocks NMIs
CFG-EXTINT-SHADOW  = on   # With external-interrupt exiting, STI/MOV-SS blocking delays external-interrupt exits
CFG-NMI-STI-ENTRY  = on   # VM entry injecting an NMI with blocking by STI fails (reason 33, qualification 3)
CFG-MSS-CHAIN      = off  # A MOV SS inside MOV-SS blocking re-arms the blocking
CFG-PT-SHADOW      = off  # STI/MOV-SS blocking delays VMX-preemption-timer exits
