/*
 * APIC virtualization (SDM Vol. 3 "APIC Virtualization and Virtual Interrupts"):
 * "use TPR shadow" (MOV CR8 on VTPR, TPR virtualization, the TPR-below-threshold
 * exit 43), the post-entry TPR-threshold exit of IW-8 (PRI-2 item 1), virtual-
 * interrupt delivery (IW-7: RVI/SVI, VIRR/VISR/VPPR, PPR virtualization,
 * recognition and delivery at the priority of interrupt-window exits), EOI
 * virtualization with the EOI-exit bitmap (exit 45) and the x2APIC MSRs of
 * "virtualize x2APIC mode", and what VM entry refuses by name.
 *
 * Guest code at G = 0x10000, handlers at H(v) = 0x12000 + 0x10 * v (a "vmcall"),
 * RSP 0x9000; the virtual-APIC page at VAPIC, the MSR bitmap at MSRBM (all zero:
 * no MSR exits), the APIC-access page at APIC_ACCESS, outside the mapped 1 MiB.
 *
 * The SDM makes the post-entry TPR-threshold exit depend on "virtualize APIC
 * accesses" = 1 as well (the catalogue's IW-8 leaves it out); without it the
 * VM-entry check of ENT-CTL-5 rules the case out. The model accepts "virtualize
 * APIC accesses" only with the APIC-access page outside mapped memory, so these
 * tests use a server profile that allows it (vaa_profile).
 */
#include "rules_fixture.h"

#define VAPIC 0x40000u
#define MSRBM 0x44000u
#define APIC_ACCESS 0x300000u /* identity-paged, outside the 1 MiB of RAM */
#define OFF_VTPR 0x80u
#define OFF_VPPR 0xA0u
#define OFF_VISR 0x100u
#define OFF_VIRR 0x200u

#define R_TPR VTX_EXIT_REASON_TPR_BELOW_THRESHOLD
#define R_EOI VTX_EXIT_REASON_VIRTUALIZED_EOI
#define R_VMCALL VTX_EXIT_REASON_VMCALL
#define R_IW VTX_EXIT_REASON_INTERRUPT_WINDOW

TestSuite(apic, .init = rf_setup, .fini = rf_teardown);

/* ---- fixtures ---- */

static uint32_t vapic32(unsigned off)
{
    uint32_t v;
    memcpy(&v, e.ram + VAPIC + off, 4);
    return v;
}
static void set_vapic32(unsigned off, uint32_t v) { memcpy(e.ram + VAPIC + off, &v, 4); }
static bool vapic_bit(unsigned base, uint8_t v) { return (vapic32(base + ((v & 0xE0u) >> 1)) >> (v & 31)) & 1; }
static void set_vapic_bit(unsigned base, uint8_t v)
{
    unsigned off = base + ((v & 0xE0u) >> 1);
    set_vapic32(off, vapic32(off) | 1u << (v & 31));
}

/* "Use TPR shadow" with the virtual-APIC page at VAPIC, VTPR and the threshold given. */
static void tpr_shadow(uint8_t vtpr, uint32_t threshold)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_TPR_SHADOW);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, VAPIC);
    vt_vmwrite(&e, VTX_VMCS_TPR_THRESHOLD, threshold);
    set_vapic32(OFF_VTPR, vtpr);
}

static void proc2(uint32_t bits)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    rf_set(VTX_VMCS_PROC_CONTROLS2, bits);
}

/* Virtual-interrupt delivery: TPR shadow, external-interrupt exiting (ENT-CTL-6),
 * the guest interrupt status (RVI, SVI) and VTPR. */
static void vid(uint8_t rvi, uint8_t svi, uint8_t vtpr)
{
    tpr_shadow(vtpr, 0);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    proc2(VTX_PROC2_VIRT_INTR_DELIVERY);
    vt_vmwrite(&e, VTX_VMCS_GUEST_INTR_STATUS, (uint64_t)rvi | ((uint64_t)svi << 8));
    if (rvi)
        set_vapic_bit(OFF_VIRR, rvi);
    if (svi)
        set_vapic_bit(OFF_VISR, svi);
}

/* "Virtualize x2APIC mode" with an all-zero MSR bitmap (no RDMSR/WRMSR exits). */
static void x2apic(void)
{
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_MSR_BITMAPS);
    vt_vmwrite(&e, VTX_VMCS_MSR_BITMAP, MSRBM);
    proc2(VTX_PROC2_VIRT_X2APIC);
}

/* Rebuild the machine on "server" plus the allowed-1 setting of "virtualize APIC
 * accesses", with "use TPR shadow" and that control on (APIC-access page unmapped). */
static void vaa_machine(uint8_t vtpr, uint32_t threshold)
{
    vt_teardown(&e);
    vtx_profile p = vt_profile_copy("server");
    p.msr[VTX_CAP_IA32_VMX_PROCBASED_CTLS2] |= (uint64_t)VTX_PROC2_VIRT_APIC_ACCESSES << 32;
    vt_setup_profile(&e, &p);
    vt_baseline(&e);
    rec = (rf_recorder){0};
    vtx_machine_set_observer(e.m, rf_record, &rec);
    tpr_shadow(vtpr, threshold);
    proc2(VTX_PROC2_VIRT_APIC_ACCESSES);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, APIC_ACCESS);
}

static uint64_t gpr_rax(void)
{
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    return g.rax;
}
static void set_rbx(uint64_t v)
{
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    g.rbx = v;
    vtx_machine_set_gprs(e.m, &g);
}

/* The return RIP of the interrupt frame the handler got (RSP was 0x9000, no error code). */
static uint64_t pushed_rip(void) { return rf_mem64(vt_vmread(&e, VTX_VMCS_GUEST_RSP)); }

static void verdict_is(const char *step, const vtx_boundary_report *rep, vtx_event ev, vtx_event_state state,
                       const char *rule)
{
    const vtx_event_verdict *v = &rep->events[ev];
    cr_assert_eq(v->state, state, "%s: %s is in state %d, expected %d (%s)", step, vtx_event_name(ev), v->state,
                 state, v->why ? v->why : "");
    if (rule)
        cr_assert(v->rule && !strcmp(v->rule, rule), "%s: %s decided by %s, expected %s", step, vtx_event_name(ev),
                  v->rule ? v->rule : "(none)", rule);
}

/* Instruction bytes. */
#define MOV_RAX_CR8 0x44, 0x0f, 0x20, 0xc0
#define MOV_CR8_RBX 0x44, 0x0f, 0x22, 0xc3
#define VMCALL_ 0x0f, 0x01, 0xc1
#define WRMSR_ 0x0f, 0x30
#define RDMSR_ 0x0f, 0x32
#define MOV_ECX(imm) 0xb9, (imm) & 0xff, ((imm) >> 8) & 0xff, 0, 0
#define MOV_EAX(imm) 0xb8, (imm) & 0xff, ((imm) >> 8) & 0xff, 0, 0
#define XOR_EDX_EDX 0x31, 0xd2

/* ======== "use TPR shadow": MOV CR8 on the virtual-APIC page ======== */

Test(apic, mov_from_cr8_reads_vtpr_bits_7_4)
{
    /* SDM "Virtualizing CR8-Based TPR Accesses": MOV from CR8 loads VTPR[7:4] into
     * bits 3:0 and clears bits 63:4.   G+0 mov rax, cr8 ; G+4 vmcall */
    CODE(MOV_RAX_CR8, VMCALL_);
    tpr_shadow(0x5A, 0);
    rf_gprs_rax(~0ull, 0, 0);
    rf_launch_exit("mov rax, cr8 with TPR shadow", R_VMCALL);
    cr_assert_eq(gpr_rax(), 5, "RAX = VTPR[7:4] = 5, got 0x%llx", (unsigned long long)gpr_rax());
    /* The flip: CR8-store exiting decides first (exit 28, qualification CR8, MOV from, RAX). */
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR8_STORE_EXITING);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("CR8-store exiting", VTX_EXIT_REASON_CR_ACCESS);
    rf_field("CR8-store exiting", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 8 | (1u << 4));
    rf_saved_rip("CR8-store exiting", G);
}

Test(apic, mov_to_cr8_writes_vtpr_and_clears_the_rest)
{
    /* MOV to CR8 stores source[3:0] in VTPR[7:4] and clears VTPR bits 3:0 and 31:8;
     * the bytes above VTPR's dword stay.   G+0 mov cr8, rbx ; G+4 vmcall */
    CODE(MOV_CR8_RBX, VMCALL_);
    tpr_shadow(0, 0);
    set_vapic32(OFF_VTPR, 0xDEADBE0Fu);
    set_vapic32(OFF_VTPR + 4, 0x12345678u);
    set_rbx(7);
    rf_launch_exit("mov cr8, rbx (7)", R_VMCALL);
    cr_assert_eq(vapic32(OFF_VTPR), 0x70, "VTPR = 0x70, got 0x%x", vapic32(OFF_VTPR));
    cr_assert_eq(vapic32(OFF_VTPR + 4), 0x12345678u, "the next dword is not VTPR");
}

Test(apic, mov_to_cr8_reserved_bits_fault_after_the_exit_decision)
{
    /* CR8 bits 63:4 are reserved: #GP(0), VTPR unchanged. CR8-load exiting comes
     * first (an exit is decided before the fault).   G+0 mov cr8, rbx */
    CODE(MOV_CR8_RBX, VMCALL_);
    tpr_shadow(0x30, 0);
    set_rbx(0x10);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("mov cr8, rbx (0x10)", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    rf_saved_rip("#GP is a fault", G);
    cr_assert_eq(vapic32(OFF_VTPR), 0x30, "VTPR unchanged");
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_CR8_LOAD_EXITING);
    rf_resume_exit("CR8-load exiting", VTX_EXIT_REASON_CR_ACCESS);
    rf_field("CR8-load exiting", VTX_VMCS_EXIT_QUALIFICATION, "qualification (CR8, MOV to, RBX)", 8 | (3u << 8));
    cr_assert_eq(vapic32(OFF_VTPR), 0x30, "VTPR unchanged");
}

Test(apic, cr8_without_tpr_shadow_runs_as_before)
{
    /* Without "use TPR shadow" MOV CR8 runs on the engine (no APIC behind it) and
     * the virtual-APIC page is not touched.   mov cr8, rbx ; mov rax, cr8 ; vmcall */
    CODE(MOV_CR8_RBX, MOV_RAX_CR8, VMCALL_);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, VAPIC);
    set_vapic32(OFF_VTPR, 0x20);
    set_rbx(9);
    rf_launch_exit("MOV CR8 without TPR shadow", R_VMCALL);
    rf_saved_rip("both MOVs ran", G + 8);
    cr_assert_eq(vapic32(OFF_VTPR), 0x20, "VTPR untouched");
}

/* ======== TPR virtualization: the trap-like TPR-below-threshold exit ======== */

Test(apic, exit_7_tpr_below_threshold_is_trap_like_after_mov_cr8)
{
    VTX_COVERS("EXIT-7", "EXIT-3", "PRI-2", "ENT-CTL-5");
    /* SDM "TPR Virtualization" without virtual-interrupt delivery: VTPR[7:4] <
     * threshold after MOV to CR8 -> exit 43, trap-like: RIP after the MOV (EXIT-7),
     * qualification 0 (EXIT-3), interruption information invalid.
     *   G+0 mov cr8, rbx ; G+4 nop ; G+5 vmcall */
    CODE(MOV_CR8_RBX, 0x90, VMCALL_);
    tpr_shadow(0x40, 4);
    set_rbx(3);
    rf_launch_exit("VTPR 3 < threshold 4", R_TPR);
    rf_saved("trap-like", G + 4, 0, ACT_ACTIVE);
    rf_field("exit 43", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_INTR_INFO) >> 31, 0, "interruption information invalid");
    cr_assert_eq(vapic32(OFF_VTPR), 0x30, "the MOV completed: VTPR = 0x30");
    verdict_is("the boundary after the MOV", &rec.last, VTX_EV_TPR_THRESHOLD, VTX_EVS_TAKEN, "PRI-2");
    /* The flip: VTPR[7:4] = threshold is not below it: no exit 43. (The VMM puts VTPR
     * back first: VM entry checks threshold <= VTPR[7:4], ENT-CTL-5.) */
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    set_vapic32(OFF_VTPR, 0x40);
    set_rbx(4);
    rf_resume_exit("VTPR 4 = threshold 4", R_VMCALL);
    rf_saved_rip("no TPR exit", G + 5);
    cr_assert_eq(vapic32(OFF_VTPR), 0x40);
}

Test(apic, blk_sti_8_tpr_exit_after_the_shadowed_instruction_saves_no_sti_blocking)
{
    VTX_COVERS("BLK-STI-8");
    /* BLK-STI-8: the MOV CR8 in an STI shadow completes, so the trap-like exit saves
     * interruptibility 0.   G+0 sti ; G+1 mov cr8, rbx */
    CODE(0xfb, MOV_CR8_RBX, VMCALL_);
    tpr_shadow(0x80, 8);
    set_rbx(1);
    rf_launch_exit("sti; mov cr8 (1 < 8)", R_TPR);
    rf_saved("after the shadowed MOV", G + 5, 0, ACT_ACTIVE);
}

/* ======== IW-8: the TPR-below-threshold exit right after VM entry ======== */

Test(apic, iw_8_tpr_below_threshold_right_after_entry_beats_init_and_iw)
{
    VTX_COVERS("IW-8", "PRI-2");
    /* IW-8, PRI-2 item 1: "use TPR shadow" = 1, "virtualize APIC accesses" = 1 and
     * VID = 0 with threshold[3:0] > VTPR[7:4]: exit 43 before the first instruction
     * (RIP = G), above a pending INIT and an open interrupt window. */
    vaa_machine(0x40, 5);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    vtx_machine_raise_init(e.m);
    rf_launch_exit("threshold 5 > VTPR[7:4] 4", R_TPR);
    rf_saved("right after entry", G, 0, ACT_ACTIVE);
    rf_field("exit 43", VTX_VMCS_EXIT_QUALIFICATION, "qualification", 0);
    cr_assert(rec.first.after_entry);
    verdict_is("first boundary", &rec.first, VTX_EV_TPR_THRESHOLD, VTX_EVS_TAKEN, "IW-8");
    verdict_is("first boundary", &rec.first, VTX_EV_INIT, VTX_EVS_BEATEN, "PRI-2");
    verdict_is("first boundary", &rec.first, VTX_EV_INTR_WINDOW, VTX_EVS_BEATEN, "PRI-2");
    /* The VMM raises VTPR: the next entry takes the INIT, still pending. */
    set_vapic32(OFF_VTPR, 0x50);
    rf_resume_exit("INIT after the TPR exit", VTX_EXIT_REASON_INIT_SIGNAL);
}

Test(apic, iw_8_threshold_does_not_gate_interrupt_window_exits)
{
    VTX_COVERS("IW-8", "IW-1");
    /* IW-8: VTPR[7:4] = threshold -> no exit 43, and the TPR (even VTPR 0xF0) does not
     * gate the interrupt window (IW-1): exit 7 at G. The flip of the test above. */
    vaa_machine(0x50, 5);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_launch_exit("threshold 5 = VTPR[7:4] 5", R_IW);
    rf_saved_rip("IW exit at the first instruction", G);
    verdict_is("first boundary", &rec.first, VTX_EV_TPR_THRESHOLD, VTX_EVS_IDLE, NULL);
    set_vapic32(OFF_VTPR, 0xF0);
    rf_resume_exit("VTPR 0xF0", R_IW);
}

Test(apic, iw_8_follows_injection_pri_4)
{
    VTX_COVERS("IW-8", "PRI-4");
    /* IW-8, PRI-4: the exit follows event injection: RIP = the handler of the injected
     * external interrupt 0x30 (an interrupt gate: IF = 0 does not block exit 43). */
    vaa_machine(0x10, 2);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x30, false);
    rf_inject(INTR(0, 0x30), 0, 0);
    rf_launch_exit("injected 0x30, then exit 43", R_TPR);
    rf_saved_rip("handler entry", H(0x30));
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS) & RFLAGS_IF, 0, "IF = 0 in the handler");
}

Test(apic, iw_8_wakes_hlt)
{
    VTX_COVERS("IW-8", "HLT-2", "HLT-3");
    /* IW-8, HLT-2, HLT-3: entry into HLT: exit 43 wakes it, saved activity HLT. The
     * flip: no exit with VTPR[7:4] >= threshold (the guest stays halted). */
    vaa_machine(0x10, 2);
    rf_state(G + 1, 0x2, 0, ACT_HLT);
    rf_launch_exit("HLT, threshold 2 > 1", R_TPR);
    rf_saved("from HLT", G + 1, 0, ACT_HLT);
    set_vapic32(OFF_VTPR, 0x20);
    vtx_insn_result r;
    vtx_status st = vtx_vmresume(e.m, &r);
    rf_check_stopped("HLT, threshold 2 = 2", st, &r);
}

Test(apic, iw_8_waits_out_shutdown_until_an_nmi_leaves_it)
{
    VTX_COVERS("IW-8");
    /* IW-8 (SDM "VM Exits Induced by the TPR Threshold"): entry into shutdown holds the
     * exit (rule IW-8 in the report); an NMI delivered through the IDT (NMI exiting 0) leaves shutdown,
     * and the exit follows, RIP = the NMI handler. */
    vaa_machine(0x10, 2);
    rf_state(G, 0x2, 0, ACT_SHUTDOWN);
    rf_vmcall_handler(2, false);
    rf_launch_stopped("shutdown holds exit 43");
    verdict_is("in shutdown", &rec.last, VTX_EV_TPR_THRESHOLD, VTX_EVS_BLOCKED, "IW-8");
    vtx_machine_raise_nmi(e.m);
    rf_continue_exit("NMI, then exit 43", R_TPR);
    rf_saved("at the NMI handler", H(2), IS_NMI, ACT_ACTIVE);
}

Test(apic, iw_8_needs_virtualize_apic_accesses_per_sdm)
{
    VTX_COVERS("IW-8", "ENT-CTL-5");
    /* The SDM condition: without "virtualize APIC accesses" VM entry itself refuses
     * threshold > VTPR[7:4] (ENT-CTL-5), so there is no post-entry exit to take; with
     * virtual-interrupt delivery there is none either (PPR virtualization instead). */
    vaa_machine(0x40, 5);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, 0);
    vt_expect_entry_vmfail(&e, "without virtualize APIC accesses", 7, VTX_CHECK_CTL_TPR_THRESHOLD_VTPR);
    vt_vmwrite(&e, VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_VIRT_APIC_ACCESSES | VTX_PROC2_VIRT_INTR_DELIVERY);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_EXT_INTR_EXITING);
    rf_launch_stopped("with virtual-interrupt delivery: no exit 43, the guest halts");
}

/* ======== what VM entry refuses ======== */

Test(apic, entry_refuses_apic_access_page_in_mapped_memory)
{
    /* "Virtualize APIC accesses" is carried out only with the APIC-access page outside
     * mapped memory (an access to it then stops the run): in mapped memory VM entry
     * refuses it by name, changing nothing. The flip: the page outside -> it enters. */
    vaa_machine(0x40, 0);
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, 0x41000);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(r.why, "passed every VM-entry check") && strstr(r.why, "\"Virtualize APIC accesses\""),
              "why: %s", r.why);
    cr_assert(!vtx_machine_in_guest(e.m));
    vt_vmwrite(&e, VTX_VMCS_APIC_ACCESS_ADDR, APIC_ACCESS);
    rf_launch_stopped("APIC-access page outside mapped memory");
}

Test(apic, guest_access_to_the_apic_access_page_stops_the_run)
{
    /* No APIC-access VM exits: a guest read of the APIC-access page stops the run
     * (the page is outside mapped memory) instead of reading anything.
     *   G+0 mov eax, [0x300080] */
    vaa_machine(0x40, 0);
    CODE(0x8b, 0x04, 0x25, 0x80, 0x00, 0x30, 0x00, VMCALL_);
    vtx_insn_result r;
    vtx_status st = vtx_vmlaunch(e.m, &r);
    cr_assert(st == VTX_ERR_UNMAPPED && r.outcome == VTX_GUEST_STOPPED, "status %s: %s", vtx_status_name(st),
              r.why);
}

Test(apic, entry_refuses_virtual_apic_page_outside_mapped_memory)
{
    /* The model keeps the virtual APIC in guest memory: "use TPR shadow" with the
     * virtual-APIC page outside mapped memory is refused by name. Flip: mapped. */
    tpr_shadow(0, 0);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, 0x200000);
    vtx_insn_result r;
    cr_assert_eq(vtx_vmlaunch(e.m, &r), VTX_ERR_UNSUPPORTED);
    cr_assert(strstr(r.why, "virtual-APIC page 0x200000"), "why: %s", r.why);
    vt_vmwrite(&e, VTX_VMCS_VIRTUAL_APIC_ADDR, VAPIC);
    rf_launch_stopped("virtual-APIC page mapped");
}

/* ======== IW-7: virtual-interrupt delivery ======== */

Test(apic, iw_7_virtual_interrupt_delivered_with_if_1)
{
    VTX_COVERS("IW-7");
    /* IW-7 (SDM "Virtual-Interrupt Delivery"): RVI 0x31 > VPPR -> recognised at entry
     * and delivered at the first boundary with IF = 1 through the guest IDT: VISR[31H]
     * set, SVI = 31H, VPPR = 30H, VIRR[31H] clear, RVI = 0; the handler runs. */
    CODE(0x90, VMCALL_);
    vid(0x31, 0, 0);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_launch_exit("virtual interrupt 0x31", R_VMCALL);
    rf_saved_rip("handler of 0x31", H(0x31));
    cr_assert_eq(pushed_rip(), G, "the frame returns to the first instruction");
    cr_assert(vapic_bit(OFF_VISR, 0x31), "VISR[0x31] set");
    cr_assert(!vapic_bit(OFF_VIRR, 0x31), "VIRR[0x31] clear");
    cr_assert_eq(vapic32(OFF_VPPR), 0x30, "VPPR = 0x30, got 0x%x", vapic32(OFF_VPPR));
    rf_field("saved at the exit", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status (SVI 31H, RVI 0)", 0x3100);
    verdict_is("first boundary", &rec.first, VTX_EV_VIRTUAL_INTR, VTX_EVS_TAKEN, "IW-7");
}

Test(apic, iw_7_held_by_if_0)
{
    VTX_COVERS("IW-7");
    /* IW-7: a recognised virtual interrupt waits for RFLAGS.IF = 1 (the guest runs
     * to its VMCALL; RVI stays). The flip is the test above.   G+0 nop ; G+1 vmcall */
    CODE(0x90, VMCALL_);
    vid(0x31, 0, 0);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_launch_exit("IF = 0", R_VMCALL);
    rf_saved_rip("no delivery", G + 1);
    rf_field("IF = 0", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status (RVI 31H)", 0x31);
    verdict_is("IF = 0", &rec.first, VTX_EV_VIRTUAL_INTR, VTX_EVS_BLOCKED, "IW-7");
}

Test(apic, iw_7_held_by_sti_blocking_for_one_instruction)
{
    VTX_COVERS("IW-7", "BLK-STI-3");
    /* IW-7, BLK-STI-3: IF = 0, the guest's STI opens the window after the next
     * instruction: the frame's return RIP is after "sti; nop".   G+0 sti ; G+1 nop ; G+2 vmcall */
    CODE(0xfb, 0x90, VMCALL_);
    vid(0x31, 0, 0);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_launch_exit("sti; nop", R_VMCALL);
    rf_saved_rip("handler", H(0x31));
    cr_assert_eq(pushed_rip(), G + 2, "delivered after the instruction in the STI shadow");
}

Test(apic, iw_7_held_by_mov_ss_blocking)
{
    VTX_COVERS("IW-7", "BLK-MSS-1");
    /* IW-7, BLK-MSS-1: entry with blocking by MOV SS and IF = 1: one instruction runs,
     * then the delivery (return RIP G+1). The flip: no blocking -> return RIP G. */
    CODE(0x90, VMCALL_);
    vid(0x31, 0, 0);
    rf_state(G, 0x202, IS_MOVSS, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_launch_exit("MOV-SS blocking", R_VMCALL);
    cr_assert_eq(pushed_rip(), G + 1, "delivered after one instruction");
    verdict_is("first boundary", &rec.first, VTX_EV_VIRTUAL_INTR, VTX_EVS_BLOCKED, "BLK-MSS-1");
}

Test(apic, iw_7_interrupt_window_exiting_takes_the_iw_exit_instead)
{
    VTX_COVERS("IW-7", "IW-1");
    /* IW-7: with interrupt-window exiting = 1 no virtual interrupt is recognised; the
     * IW exit (7) is taken at G and the virtual-APIC state is untouched. The flip:
     * the VMM clears the control; the next entry recognises and delivers it. */
    CODE(0x90, VMCALL_);
    vid(0x31, 0, 0);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_launch_exit("IW exiting with RVI 0x31", R_IW);
    rf_saved_rip("IW exit", G);
    rf_field("IW exit", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status", 0x31);
    cr_assert(vapic_bit(OFF_VIRR, 0x31) && !vapic_bit(OFF_VISR, 0x31), "nothing delivered");
    verdict_is("first boundary", &rec.first, VTX_EV_INTR_WINDOW, VTX_EVS_TAKEN, "IW-1");
    verdict_is("first boundary", &rec.first, VTX_EV_VIRTUAL_INTR, VTX_EVS_BLOCKED, "IW-7");
    rf_clr(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING);
    rf_resume_exit("IW exiting cleared", R_VMCALL);
    rf_saved_rip("delivered", H(0x31));
}

Test(apic, iw_7_rvi_must_be_above_vppr)
{
    VTX_COVERS("IW-7");
    /* IW-7: PPR virtualization at entry makes VPPR = VTPR (0x40 >= SVI); RVI 0x31 is not
     * above it: not recognised, the guest runs on. The flip: VTPR 0x20 -> delivered. */
    CODE(0x90, VMCALL_);
    vid(0x31, 0, 0x40);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_launch_exit("RVI class 3, VTPR class 4", R_VMCALL);
    rf_saved_rip("not delivered", G + 1);
    cr_assert_eq(vapic32(OFF_VPPR), 0x40, "PPR virtualization at entry: VPPR = VTPR");
    verdict_is("first boundary", &rec.first, VTX_EV_VIRTUAL_INTR, VTX_EVS_IDLE, NULL);
    set_vapic32(OFF_VTPR, 0x20);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    rf_resume_exit("VTPR class 2", R_VMCALL);
    rf_saved_rip("delivered", H(0x31));
}

Test(apic, iw_7_svi_raises_vppr)
{
    VTX_COVERS("IW-7");
    /* PPR virtualization: with 0x45 in service (SVI) and VTPR 0x10, VPPR = 0x40, so
     * RVI 0x43 (class 4) is not recognised.   G+0 nop ; G+1 vmcall */
    CODE(0x90, VMCALL_);
    vid(0x43, 0x45, 0x10);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_launch_exit("RVI 0x43, SVI 0x45", R_VMCALL);
    cr_assert_eq(vapic32(OFF_VPPR), 0x40, "VPPR = SVI & F0H");
    rf_field("saved", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status", 0x4543);
}

Test(apic, iw_7_wakes_hlt_kut_6_13_hlt_with_rvi)
{
    VTX_COVERS("IW-7", "HLT-2");
    /* kut 6.13 vmx_hlt_with_rvi_test, IW-7, HLT-2: entry into HLT with RVI = a vector
     * and IF = 1: the virtual interrupt wakes the guest and its ISR runs; the frame
     * returns after the HLT. The flip: IF = 0 -> it stays halted. */
    vid(0x31, 0, 0);
    rf_state(G + 1, 0x202, 0, ACT_HLT);
    rf_vmcall_handler(0x31, false);
    rf_launch_exit("HLT with RVI 0x31", R_VMCALL);
    rf_saved_rip("ISR", H(0x31));
    cr_assert_eq(pushed_rip(), G + 1);
    vt_teardown(&e);
    rf_setup();
    vid(0x31, 0, 0);
    rf_state(G + 1, 0x2, 0, ACT_HLT);
    rf_launch_stopped("HLT with IF = 0");
}

Test(apic, iw_7_priority_nmi_before_virtual_interrupt_before_external_interrupt)
{
    VTX_COVERS("IW-7", "PRI-2", "IW-3");
    /* PRI-2 items 7-9, IW-3: a pending NMI (NMI exiting) exits first; a virtual
     * interrupt is delivered before a pending external interrupt, which then exits
     * (external-interrupt exiting, required by VID) at the handler's first boundary. */
    CODE(0x90, VMCALL_);
    vid(0x31, 0, 0);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x31, false);
    rf_set(VTX_VMCS_PIN_CONTROLS, VTX_PIN_NMI_EXITING);
    vtx_machine_raise_nmi(e.m);
    vtx_machine_set_intr(e.m, true, 0x60);
    rf_launch_exit("NMI first", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_saved_rip("NMI exit", G);
    verdict_is("first boundary", &rec.first, VTX_EV_VIRTUAL_INTR, VTX_EVS_BEATEN, "PRI-2");
    rf_resume_exit("then the virtual interrupt, then the external interrupt", VTX_EXIT_REASON_EXTERNAL_INTERRUPT);
    rf_saved_rip("external-interrupt exit in the handler", H(0x31));
    cr_assert(vapic_bit(OFF_VISR, 0x31));
}

/* ======== TPR virtualization with virtual-interrupt delivery ======== */

Test(apic, iw_7_mov_cr8_lowering_the_tpr_delivers_a_pending_virtual_interrupt)
{
    VTX_COVERS("IW-7");
    /* SDM "TPR Virtualization" with VID: MOV to CR8 -> PPR virtualization and an
     * evaluation: RVI 0x41 becomes recognised when VTPR drops below class 4, and is
     * delivered at the boundary after the MOV.   G+0 mov cr8, rbx ; G+4 vmcall */
    CODE(MOV_CR8_RBX, VMCALL_);
    vid(0x41, 0, 0x50);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x41, false);
    set_rbx(5);
    rf_launch_exit("TPR 5: still masked", R_VMCALL);
    rf_saved_rip("no delivery", G + 4);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    set_rbx(3);
    rf_resume_exit("TPR 3: delivered", R_VMCALL);
    rf_saved_rip("handler", H(0x41));
    cr_assert_eq(pushed_rip(), G + 4, "after the MOV");
    cr_assert_eq(vapic32(OFF_VPPR), 0x40, "VPPR = vector & F0H after delivery");
}

Test(apic, iw_7_delivery_at_the_exact_boundary_without_an_observer)
{
    VTX_COVERS("IW-7");
    /* The same with no observer installed (the engine runs plain instructions in one
     * go): the delivery still lands on the boundary right after the MOV to CR8.
     *   G+0 5 x nop ; G+5 mov cr8, rbx ; G+9 nop ; G+10 vmcall */
    CODE(0x90, 0x90, 0x90, 0x90, 0x90, MOV_CR8_RBX, 0x90, VMCALL_);
    vtx_machine_set_observer(e.m, NULL, NULL);
    vid(0x41, 0, 0x50);
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x41, false);
    set_rbx(0);
    rf_launch_exit("TPR 0", R_VMCALL);
    rf_saved_rip("handler", H(0x41));
    cr_assert_eq(pushed_rip(), G + 9, "after the MOV");
}

/* ======== EOI virtualization and the x2APIC MSRs ======== */

Test(apic, eoi_virtualization_through_the_x2apic_eoi_msr)
{
    /* SDM "EOI Virtualization" via WRMSR 80BH ("virtualize x2APIC mode", VID): VISR[SVI]
     * cleared, SVI = the next in service (0x22), PPR virtualization (VPPR 0x20), no
     * exit (EOI-exit bitmap 0).   G+0 mov ecx, 0x80b ; xor eax, eax ; xor edx, edx ; wrmsr ; vmcall */
    CODE(MOV_ECX(0x80b), 0x31, 0xc0, XOR_EDX_EDX, WRMSR_, VMCALL_);
    vid(0, 0x31, 0);
    set_vapic_bit(OFF_VISR, 0x22);
    x2apic();
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("virtual EOI", R_VMCALL);
    cr_assert(!vapic_bit(OFF_VISR, 0x31) && vapic_bit(OFF_VISR, 0x22), "0x31 left VISR, 0x22 stays");
    cr_assert_eq(vapic32(OFF_VPPR), 0x20);
    rf_field("saved", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status (SVI 22H)", 0x2200);
}

Test(apic, eoi_exit_bitmap_makes_a_trap_like_virtualized_eoi_exit)
{
    VTX_COVERS("EXIT-3", "EXIT-7", "PRI-2");
    /* EOI-exit bitmap bit 0x31 = 1: exit 45, qualification = the vector (EXIT-3), RIP
     * after the WRMSR (trap-like, EXIT-7), VISR updated first. The flip: bit clear ->
     * the guest runs on to its VMCALL (test above). */
    CODE(MOV_ECX(0x80b), 0x31, 0xc0, XOR_EDX_EDX, WRMSR_, VMCALL_);
    vid(0, 0x31, 0);
    x2apic();
    vt_vmwrite(&e, VTX_VMCS_EOI_EXIT_BITMAP0, 1ull << 0x31);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("virtual EOI of 0x31, bitmap bit set", R_EOI);
    rf_field("exit 45", VTX_VMCS_EXIT_QUALIFICATION, "qualification (vector)", 0x31);
    rf_saved("trap-like", G + 11, 0, ACT_ACTIVE);
    cr_assert(!vapic_bit(OFF_VISR, 0x31));
    rf_field("saved", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status", 0);
    verdict_is("after the WRMSR", &rec.last, VTX_EV_APIC_TRAP, VTX_EVS_TAKEN, "PRI-2");
}

Test(apic, iw_7_eoi_lets_the_next_virtual_interrupt_in)
{
    VTX_COVERS("IW-7");
    /* EOI virtualization ends with an evaluation: 0x25 waits while 0x31 is in service
     * (VPPR 0x30); after the EOI it is recognised and delivered at the next boundary. */
    CODE(MOV_ECX(0x80b), 0x31, 0xc0, XOR_EDX_EDX, WRMSR_, VMCALL_);
    vid(0x25, 0x31, 0);
    x2apic();
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x25, false);
    rf_launch_exit("EOI, then 0x25", R_VMCALL);
    rf_saved_rip("handler of 0x25", H(0x25));
    cr_assert_eq(pushed_rip(), G + 11, "delivered after the WRMSR");
    rf_field("saved", VTX_VMCS_GUEST_INTR_STATUS, "guest interrupt status (SVI 25H, RVI 0)", 0x2500);
}

Test(apic, eoi_msr_with_nonzero_value_faults)
{
    /* WRMSR 80BH checks its reserved bits: EDX:EAX must be 0, else #GP(0) with no
     * virtualization.   mov ecx, 0x80b ; mov eax, 1 ; xor edx, edx ; wrmsr */
    CODE(MOV_ECX(0x80b), MOV_EAX(1), XOR_EDX_EDX, WRMSR_, VMCALL_);
    vid(0, 0x31, 0);
    x2apic();
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_launch_exit("EOI with EAX = 1", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
    cr_assert(vapic_bit(OFF_VISR, 0x31), "nothing virtualized");
}

Test(apic, x2apic_tpr_msr_read_gives_vtpr_and_the_dword_above)
{
    /* RDMSR 808H ("virtualize x2APIC mode", no APIC-register virtualization): EDX:EAX
     * = the 8 bytes at 80H, even though the model has no x2APIC. The flip: without the
     * control RDMSR 808H reads no APIC (#GP).   mov ecx, 0x808 ; rdmsr ; vmcall */
    CODE(MOV_ECX(0x808), RDMSR_, VMCALL_);
    tpr_shadow(0x30, 0);
    set_vapic32(OFF_VTPR + 4, 0x77);
    x2apic();
    rf_launch_exit("RDMSR 808H", R_VMCALL);
    vtx_gprs g;
    vtx_machine_get_gprs(e.m, &g);
    cr_assert(g.rax == 0x30 && g.rdx == 0x77, "EDX:EAX = 0x%llx:0x%llx", (unsigned long long)g.rdx,
              (unsigned long long)g.rax);
    rf_clr(VTX_VMCS_PROC_CONTROLS2, VTX_PROC2_VIRT_X2APIC);
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    vt_vmwrite(&e, VTX_VMCS_EXCEPTION_BITMAP, 1u << 13);
    rf_resume_exit("RDMSR 808H without the control", VTX_EXIT_REASON_EXCEPTION_NMI);
    rf_field("#GP", VTX_VMCS_EXIT_INTR_INFO, "interruption information", INTR_EC(3, 13));
}

Test(apic, x2apic_tpr_msr_write_is_tpr_virtualization)
{
    /* WRMSR 808H stores EDX:EAX at 80H, then TPR virtualization (no VID: exit 43 when
     * VTPR[7:4] falls below the threshold, trap-like). The flip: the MSR bitmap's write
     * bit for 808H makes WRMSR exit (32) before anything is virtualized.
     *   G+0 mov ecx, 0x808 ; mov eax, 0x10 ; xor edx, edx ; wrmsr ; vmcall */
    CODE(MOV_ECX(0x808), MOV_EAX(0x10), XOR_EDX_EDX, WRMSR_, VMCALL_);
    tpr_shadow(0x30, 2);
    set_vapic32(OFF_VTPR + 4, 0x77);
    x2apic();
    rf_launch_exit("WRMSR TPR 0x10 < threshold 2", R_TPR);
    rf_saved_rip("after the WRMSR", G + 14);
    cr_assert_eq(vapic32(OFF_VTPR), 0x10);
    cr_assert_eq(vapic32(OFF_VTPR + 4), 0, "EDX went to the dword above VTPR");
    rf_poke64(MSRBM + 2048 + 0x808 / 8, 1ull << (0x808 % 8));
    vt_vmwrite(&e, VTX_VMCS_GUEST_RIP, G);
    set_vapic32(OFF_VTPR, 0x30);
    rf_resume_exit("write bit set", VTX_EXIT_REASON_WRMSR);
    rf_saved_rip("WRMSR exit", G + 12);
    cr_assert_eq(vapic32(OFF_VTPR), 0x30, "not written");
}

Test(apic, self_ipi_msr_requests_a_virtual_interrupt)
{
    /* SDM "Self-IPI Virtualization" via WRMSR 83FH: VIRR[0x40] = 1, RVI = 0x40, an
     * evaluation: delivered after the WRMSR. Vector 0x05 (bits 7:4 = 0) is an
     * APIC-write exit (56), qualification 3F0H, trap-like.
     *   mov ecx, 0x83f ; mov eax, 0x40 ; xor edx, edx ; wrmsr ; vmcall */
    CODE(MOV_ECX(0x83f), MOV_EAX(0x40), XOR_EDX_EDX, WRMSR_, VMCALL_);
    vid(0, 0, 0);
    x2apic();
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_vmcall_handler(0x40, false);
    rf_launch_exit("self-IPI 0x40", R_VMCALL);
    rf_saved_rip("handler of 0x40", H(0x40));
    cr_assert_eq(pushed_rip(), G + 14);
    e.ram[G + 6] = 0x05;
    rf_state(G, 0x202, 0, ACT_ACTIVE);
    rf_resume_exit("self-IPI 0x05", VTX_EXIT_REASON_APIC_WRITE);
    rf_field("exit 56", VTX_VMCS_EXIT_QUALIFICATION, "qualification (page offset)", 0x3F0);
    rf_saved_rip("after the WRMSR", G + 14);
}
