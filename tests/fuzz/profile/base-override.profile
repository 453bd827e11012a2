base = server
CFG-STI-NMI = off
IA32_VMX_MISC = 0x5
