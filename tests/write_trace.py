#!/usr/bin/env python3
"""Write a vtxref trace (docs/traces.md) without vtxref: only the json module.

The trace is the contract between tools: this script knows nothing of vtxref's
code. It describes a real-mode guest (unrestricted guest) whose code is
`mov ax, 0x1234; hlt` at CS base 0x10000, with HLT exiting, and the one VM exit
the SDM says it must cause: reason 12 (HLT), RIP = 3 (the HLT, EXIT-7), length 1,
one instruction retired, AX = 0x1234. Unrestricted guest needs EPT: an identity EPT is
in the trace's memory (vtxref on Unicorn 2.0.1 runs only an identity EPT).

usage: write_trace.py OUT [--wrong]   (--wrong expects reason 10 instead: a replay must diverge)
"""
import json
import sys

# The processor: the capability MSRs of a Skylake-SP class part (vtxref's "server" profile).
MSR = {
    "IA32_VMX_BASIC": 0xda040000000004,
    "IA32_VMX_PINBASED_CTLS": 0x7f00000016,
    "IA32_VMX_PROCBASED_CTLS": 0xfff9fffe0401e172,
    "IA32_VMX_EXIT_CTLS": 0x7fefff00036dff,
    "IA32_VMX_ENTRY_CTLS": 0xdfff000011ff,
    "IA32_VMX_MISC": 0x200401e5,
    "IA32_VMX_CR0_FIXED0": 0x80000021,
    "IA32_VMX_CR0_FIXED1": 0xffffffff,
    "IA32_VMX_CR4_FIXED0": 0x2000,
    "IA32_VMX_CR4_FIXED1": 0x3767ff,
    "IA32_VMX_VMCS_ENUM": 0x2e,
    "IA32_VMX_PROCBASED_CTLS2": 0x2011afe00000000,
    "IA32_VMX_EPT_VPID_CAP": 0xf0106134141,
    "IA32_VMX_TRUE_PINBASED_CTLS": 0x7f00000016,
    "IA32_VMX_TRUE_PROCBASED_CTLS": 0xfff9fffe04006172,
    "IA32_VMX_TRUE_EXIT_CTLS": 0x7fefff00036dfb,
    "IA32_VMX_TRUE_ENTRY_CTLS": 0xdfff000011fb,
    "IA32_VMX_VMFUNC": 0x0,
}

# The VMCS before VMLAUNCH: every field not listed is 0.
FIELDS = {
    # controls: HLT exiting (bit 7), secondary controls with EPT and unrestricted guest; 64-bit host
    "PIN_CONTROLS": 0x16, "PROC_CONTROLS": 0x840061F2, "PROC_CONTROLS2": 0x82,
    "EXIT_CONTROLS": 0x36FFB, "ENTRY_CONTROLS": 0x11FB, "EPT_POINTER": 0x401E,
    "VMCS_LINK_POINTER": 0xFFFFFFFFFFFFFFFF, "CR0_READ_SHADOW": 0x30,
    # the guest: real mode, CS = 0x1000 (base 0x10000), RIP = 0
    "GUEST_CR0": 0x30, "GUEST_CR4": 0x2000, "GUEST_DR7": 0x400, "GUEST_RSP": 0x9000, "GUEST_RFLAGS": 0x2,
    "GUEST_CS_SELECTOR": 0x1000, "GUEST_CS_BASE": 0x10000, "GUEST_IA32_PAT": 0x7040600070406,
    "GUEST_GDTR_BASE": 0x1000, "GUEST_GDTR_LIMIT": 0x37, "GUEST_IDTR_LIMIT": 0x3FF,
    "GUEST_LDTR_AR": 0x10000, "GUEST_TR_AR": 0x8B, "GUEST_TR_LIMIT": 0xFFFF,
    # the host: 64-bit
    "HOST_CR0": 0x80050033, "HOST_CR3": 0x3000, "HOST_CR4": 0x2020, "HOST_IA32_EFER": 0x500,
    "HOST_IA32_PAT": 0x7040600070406, "HOST_CS_SELECTOR": 0x8, "HOST_TR_SELECTOR": 0x28,
    "HOST_TR_BASE": 0x1800, "HOST_GDTR_BASE": 0x1000, "HOST_IDTR_BASE": 0x2000,
    "HOST_RSP": 0x8000, "HOST_RIP": 0xFFFFFFFF81000000,
}
for seg in ("ES", "SS", "DS", "FS", "GS"):
    FIELDS["GUEST_%s_AR" % seg] = 0x93
    FIELDS["GUEST_%s_LIMIT" % seg] = 0xFFFF
    if seg != "FS" and seg != "GS":
        FIELDS["HOST_%s_SELECTOR" % seg] = 0x10
FIELDS["GUEST_CS_AR"] = 0x9B
FIELDS["GUEST_CS_LIMIT"] = 0xFFFF


def ept_pages():
    """An identity EPT (WB, R/W/X, 4-KiB pages) for every mapped page: PML4 at 0x4000, PDPT 0x5000,
    PD 0x6000, a PT at 0x7000 for the RAM below 2 MiB and one at 0x8000 for the VMCS page at 4 MiB."""
    def table(entries):
        b = bytearray(4096)
        for i, e in entries.items():
            b[8 * i:8 * i + 8] = e.to_bytes(8, "little")
        return bytes(b)
    pt0 = {i: (i << 12) | (6 << 3) | 7 for i in range(0x20000 >> 12)}
    pt2 = {0: 0x400000 | (6 << 3) | 7}
    return {0x4000: table({0: 0x5007}), 0x5000: table({0: 0x6007}), 0x6000: table({0: 0x7007, 2: 0x8007}),
            0x7000: table(pt0), 0x8000: table(pt2)}


def hx(v):
    return "0x%x" % v


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    wrong = "--wrong" in sys.argv[2:]
    code = bytes([0xB8, 0x34, 0x12, 0xF4])  # mov ax, 0x1234 ; hlt
    page = code + bytes(4096 - len(code))
    recs = [
        {"type": "header", "format": "vtxref-trace", "version": 1, "generator": "tests/write_trace.py"},
        {"type": "profile", "name": "server", "phys_addr_width": 46,
         "knobs": {"CFG-STI-NMI": True, "CFG-STI-NW": True, "CFG-STI-SMI": False, "CFG-MSS-NMI": True,
                   "CFG-EXTINT-SHADOW": True, "CFG-NMI-STI-ENTRY": True, "CFG-MSS-CHAIN": False,
                   "CFG-PT-SHADOW": False},
         "msr": {k: hx(v) for k, v in MSR.items()}},
        {"type": "machine",
         "root": {"cr0": hx(0x80010033), "cr4": hx(0x2020), "efer": hx(0x500), "rflags": hx(2), "cs_l": True,
                  "cpl": 0, "feature_control": hx(5), "in_smx": False, "blocking_by_mov_ss": False},
         "costs": {"vm_entry": 400, "vm_exit": 400}, "limits": {"instructions": 1000, "cycles": 0}},
        {"type": "region", "pa": hx(0), "size": hx(0x20000), "perms": "rwx"},
        {"type": "region", "pa": hx(0x400000), "size": hx(0x1000), "perms": "rw"},
        {"type": "page", "pa": hx(0x10000), "encoding": "hex", "data": page.hex()},
    ]
    recs[5:5] = [{"type": "page", "pa": hx(pa), "encoding": "hex", "data": data.hex()}
                 for pa, data in sorted(ept_pages().items())]
    recs += [
        {"type": "start", "vmcs": hx(0x400000), "instructions": 0, "cycles": 0,
         "fields": {k: hx(v) for k, v in FIELDS.items()}, "gprs": {}},
        {"type": "enter", "insn": "vmlaunch", "index": 1},
        # HLT exits before it executes: RIP is the HLT's (EXIT-7); entry 400 + mov 1 + exit 400 cycles
        {"type": "exit", "index": 1, "reason": hx(10 if wrong else 12), "instructions": 1, "cycles": 801,
         "fields": {"GUEST_RIP": hx(3), "EXIT_INSTRUCTION_LEN": hx(1), "GUEST_ACTIVITY_STATE": hx(0)},
         "gprs": {"rax": hx(0x1234)}},
        {"type": "end", "exits": 1},
    ]
    with open(sys.argv[1], "w") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
