/*
 * Guest execution in the legacy guest modes: catalogue A (BLK-*), B (IW-*) and
 * E.3 (INJ-6, INJ-7, INJ-9, INJ-15) on
 *   - a 16-bit real-mode guest (unrestricted guest: EPT + unrestricted guest,
 *     CR0.PE = PG = 0; an identity EPT, the only one the model runs:
 *     guest-physical = host-physical), suite modes_real;
 *   - a 32-bit protected-mode guest (flat 4-GiB segments from a GDT laid out
 *     here, identity 32-bit paging with one 4-MiB PSE page), suite modes_prot32.
 * The 64-bit versions of the blocking rules are in test_rules_blocking.c.
 *
 * Each test is a fresh VM entry. Guest code sits at the linear address
 * G = 0x10000 and is listed above each test as "G+offset  bytes  instruction";
 * the same bytes mean the same instruction in both modes unless the listing
 * says otherwise. Real mode runs it as CS = 0x0FF0 (base 0xFF00), IP = 0x100,
 * so a real-mode RIP is the linear address - 0xFF00 (ip() below). Handlers for
 * vector v sit at the linear address H(v) = 0x12000 + 0x10 * v: in real mode
 * through the IVT entry 1200:(0x10 * v) at IDTR.base + 4 * v, in 32-bit mode
 * through a 32-bit interrupt gate (CS 0x08, DPL 0) at IDTR.base + 8 * v. A
 * handler is a single HLT and HLT exiting is on, so the exit (reason 12) shows
 * where delivery went and the frame it pushed is still in guest memory.
 *
 * The stack ends at the linear address 0x9000 (real mode: SS = 0x0800, base
 * 0x8000, SP = 0x1000; 32-bit: SS = 0x10, base 0, ESP = 0x9000). The 256 bytes
 * below it are filled with 0xCC before entry so that the frame can be checked
 * byte by byte, and so can the absence of anything else pushed.
 *
 * Not covered: POP SS in 64-bit mode (#UD there, so BLK-MSS-1 with POP SS exists
 * only in these two modes); virtual-8086 mode (delivery from V86 goes through a
 * privilege change to ring 0 with an inner stack, not the same-privilege frame
 * checked here).
 */
#include "rules_fixture.h"
#include "ept_identity.h"

#define R_IW VTX_EXIT_REASON_INTERRUPT_WINDOW
#define R_HLT VTX_EXIT_REASON_HLT
#define R_EXC VTX_EXIT_REASON_EXCEPTION_NMI
/* The RFLAGS image pushed for a fault-class exception has RF = 1 (SDM Vol. 3A
 * "Debug Exceptions", RF; real mode pushes only the 16-bit FLAGS). */
#define RF_FAULT 0x10000u

#define EPT_TABLES 0x40000u /* an identity EPT (EPT-ID-1): the model runs no other */

/* Real mode. */
#define RM_CS 0x0FF0u
#define RM_CS_BASE 0xFF00u
#define RM_SS 0x0800u
#define RM_SS_BASE 0x8000u
#define RM_SP 0x1000u
#define RM_HSEG 0x1200u /* handler segment: H(v) = 1200:(0x10 * v) */
#define RM_IVT VT_GUEST_IDT

/* 32-bit protected mode. */
#define P_GDT 0x7000u
#define P_PD 0x24000u
#define P_CS 0x08u
#define P_DS 0x10u
#define P_TSS 0x18u
#define P_IDT VT_GUEST_IDT

#define STACK_TOP 0x9000u /* linear, both modes */
#define FILL 0xCCu

typedef enum { REAL, PROT32 } guest_mode;
static guest_mode mode;

static const char *mode_name(void) { return mode == REAL ? "real mode" : "32-bit protected mode"; }

/* The RIP (offset in CS) of a linear code address. */
static uint64_t ip(uint64_t lin) { return mode == REAL ? lin - RM_CS_BASE : lin; }
/* The SS selector the guest's own MOV SS / POP SS loads (the one it already has). */
static uint16_t ss_sel(void) { return mode == REAL ? RM_SS : P_DS; }
/* The linear address of the stack pointer the VM exit saved. */
static uint64_t saved_stack_lin(void)
{
    uint64_t rsp = vt_vmread(&e, VTX_VMCS_GUEST_RSP);
    return mode == REAL ? RM_SS_BASE + (rsp & 0xFFFF) : (rsp & 0xFFFFFFFF);
}

#define W(field, v) vt_vmwrite(&e, VTX_VMCS_##field, (v))
#define R(field) vt_vmread(&e, VTX_VMCS_##field)
#define SEGW(N, sel, base, limit, ar)                                                              \
    do {                                                                                           \
        W(GUEST_##N##_SELECTOR, sel);                                                              \
        W(GUEST_##N##_BASE, base);                                                                 \
        W(GUEST_##N##_LIMIT, limit);                                                               \
        W(GUEST_##N##_AR, ar);                                                                     \
    } while (0)

static void fill_stack(void) { memset(e.ram + STACK_TOP - 0x100, FILL, 0x100); }

/* The baseline 64-bit guest turned into an unrestricted-guest real-mode guest. */
static void setup_real(void)
{
    rf_setup();
    mode = REAL;
    rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_SECONDARY_CONTROLS);
    W(PROC_CONTROLS2, VTX_PROC2_ENABLE_EPT | VTX_PROC2_UNRESTRICTED_GUEST);
    W(EPT_POINTER, vt_ept_identity(&e, EPT_TABLES));
    rf_clr(VTX_VMCS_ENTRY_CONTROLS, VTX_ENTRY_IA32E_MODE_GUEST);
    W(GUEST_CR0, 0x30); /* ET NE; PE = PG = 0 */
    W(CR0_READ_SHADOW, 0x30);
    W(GUEST_CR4, VTX_CR4_VMXE);
    W(CR4_READ_SHADOW, 0);
    SEGW(CS, RM_CS, RM_CS_BASE, 0xFFFF, 0x9B);
    SEGW(SS, RM_SS, RM_SS_BASE, 0xFFFF, 0x93);
    SEGW(DS, 0, 0, 0xFFFF, 0x93);
    SEGW(ES, 0, 0, 0xFFFF, 0x93);
    SEGW(FS, 0, 0, 0xFFFF, 0x93);
    SEGW(GS, 0, 0, 0xFFFF, 0x93);
    SEGW(TR, 0, 0, 0xFFFF, 0x8B);
    W(GUEST_IDTR_BASE, RM_IVT);
    W(GUEST_IDTR_LIMIT, 0x3FF);
    W(GUEST_RSP, RM_SP);
    W(GUEST_RIP, ip(G));
    fill_stack();
}

/* The baseline turned into a 32-bit protected-mode guest: a GDT with a 32-bit
 * code and a data descriptor (and the busy 32-bit TSS TR names), 32-bit paging
 * with CR4.PSE and one identity 4-MiB page, an IDT of 8-byte gates. */
static void setup_prot32(void)
{
    rf_setup();
    mode = PROT32;
    uint64_t *gdt = (uint64_t *)(e.ram + P_GDT);
    gdt[0] = 0;
    gdt[1] = 0x00CF9B000000FFFFull; /* 0x08: code, exec/read, accessed, DPL 0, D = 1, G = 1, 4 GiB */
    gdt[2] = 0x00CF93000000FFFFull; /* 0x10: data, read/write, accessed, DPL 0, B = 1, G = 1, 4 GiB */
    gdt[3] = 0x67 | ((uint64_t)VT_GUEST_TSS << 16) | (0x8Bull << 40); /* 0x18: busy 32-bit TSS */
    vt_guest_flat32(&e, P_CS, P_DS, P_TSS, P_PD, P_GDT, 0x1F, P_IDT);
    W(GUEST_RSP, STACK_TOP);
    W(GUEST_RIP, G);
    fill_stack();
}

static void iw_on(void) { rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_INTR_WINDOW_EXITING); }
static void hlt_exiting_on(void) { rf_set(VTX_VMCS_PROC_CONTROLS, VTX_PROC_HLT_EXITING); }

/* Guest code at G (or anywhere, linear). */
static void code_at(uint64_t lin, const uint8_t *bytes, size_t n) { vt_code(&e, lin, bytes, n); }
#define CODE_AT(lin, ...)                                                                          \
    do {                                                                                           \
        const uint8_t c_[] = {__VA_ARGS__};                                                        \
        code_at(lin, c_, sizeof c_);                                                               \
    } while (0)

/* Point vector v at H(v): an IVT entry in real mode, a 32-bit interrupt gate
 * (type 0xE, DPL 0, present) in protected mode; present = false clears P. */
static void vector_to(uint8_t v, bool present)
{
    uint32_t h = H(v);
    if (mode == REAL) {
        uint16_t ivt[2] = {(uint16_t)(h - RM_HSEG * 16u), RM_HSEG};
        memcpy(e.ram + RM_IVT + 4u * v, ivt, sizeof ivt);
    } else {
        uint64_t gate = (h & 0xFFFF) | ((uint64_t)P_CS << 16) | ((present ? 0x8Eull : 0x0Eull) << 40) |
                        ((uint64_t)(h >> 16) << 48);
        memcpy(e.ram + P_IDT + 8u * v, &gate, sizeof gate);
    }
}
/* A handler that is a single HLT, reached through vector v. */
static void hlt_handler(uint8_t v)
{
    CODE_AT(H(v), 0xf4);
    vector_to(v, true);
}
/* The CS:IP (selector, offset) the handler for v runs at. */
static uint16_t handler_cs(void) { return mode == REAL ? RM_HSEG : P_CS; }
static uint64_t handler_ip(uint8_t v) { return mode == REAL ? H(v) - RM_HSEG * 16u : H(v); }

static void set_gprs(uint64_t rax, uint64_t rbx)
{
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    g.rax = rax, g.rbx = rbx;
    cr_assert_eq(vtx_machine_set_gprs(e.m, &g), VTX_OK);
}

/* Expect an interrupt-window exit at the linear code address lin: qualification
 * 0, bits 0/1 saved as 0 (IW-4). */
static void iw_exit_at(const char *step, uint64_t lin)
{
    char s[200];
    snprintf(s, sizeof s, "%s (%s)", step, mode_name());
    rf_launch_exit(s, R_IW);
    rf_saved_rip(s, ip(lin));
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_GUEST_INTERRUPTIBILITY) & 3, 0,
                 "%s: an interrupt-window exit saves no STI/MOV-SS blocking", s);
    cr_assert_eq(vt_vmread(&e, VTX_VMCS_EXIT_QUALIFICATION), 0, "%s: exit qualification 0", s);
}

/* ---- the delivery frame ---- */

typedef struct slot {
    const char *name;
    uint32_t value;
    unsigned size;    /* 2 or 4 bytes */
    bool selector;    /* a 16-bit selector in a 32-bit slot: bytes 2-3 see below */
} slot;

/*
 * Check the frame at the saved stack pointer, lowest address first (the last
 * value pushed first), byte by byte; then that the bytes below it are still the
 * fill (nothing more was pushed) and that it ends exactly at the old stack top.
 * A CS selector pushed in a 32-bit slot: SDM Vol. 3 "Stack Usage on Transfers to
 * Interrupt and Exception-Handling Routines" shows the upper half as reserved
 * (processors either zero-extend the selector or write only 16 bits), so bytes
 * 2-3 must be 00 00 or the fill left as it was.
 */
static void expect_frame(const char *step, const slot *slots, unsigned n)
{
    uint64_t sp = saved_stack_lin();
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += slots[i].size;
    cr_assert_eq(sp, STACK_TOP - total,
                 "%s (%s): expected a %u-byte frame, so the saved stack pointer at linear 0x%x, got 0x%llx", step,
                 mode_name(), total, STACK_TOP - total, (unsigned long long)sp);
    uint64_t at = sp;
    for (unsigned i = 0; i < n; i++) {
        const slot *s = &slots[i];
        for (unsigned k = 0; k < s->size; k++) {
            uint8_t got = e.ram[at + k];
            if (s->selector && k >= 2) {
                uint8_t other = e.ram[at + (k ^ 1)];
                cr_assert((got == 0 && other == 0) || (got == FILL && other == FILL),
                          "%s (%s): byte %u of the %s slot at 0x%llx is 0x%02x; the upper half of a selector's "
                          "32-bit slot is either zero or not written",
                          step, mode_name(), k, s->name, (unsigned long long)(at + k), got);
                continue;
            }
            uint8_t want = (uint8_t)(s->value >> (8 * k));
            cr_assert_eq(got, want, "%s (%s): byte %u of the pushed %s (0x%x) at 0x%llx is 0x%02x, expected 0x%02x",
                         step, mode_name(), k, s->name, s->value, (unsigned long long)(at + k), got, want);
        }
        at += s->size;
    }
    for (unsigned k = 1; k <= 16; k++)
        cr_assert_eq(e.ram[sp - k], FILL, "%s (%s): the byte at 0x%llx below the frame was written: nothing else "
                                          "may be pushed", step, mode_name(), (unsigned long long)(sp - k));
}

/* The frame of a same-privilege delivery: real mode IP, CS, FLAGS (16 bits
 * each); 32-bit mode [error code,] EIP, CS, EFLAGS (32 bits each). */
static void expect_delivery_frame(const char *step, uint32_t ret_ip, uint16_t cs, uint32_t flags, bool has_ec,
                                  uint32_t ec)
{
    if (mode == REAL) {
        cr_assert(!has_ec, "real mode never pushes an error code (test bug)");
        slot s[] = {{"IP", ret_ip, 2, false}, {"CS", cs, 2, false}, {"FLAGS", flags & 0xFFFF, 2, false}};
        expect_frame(step, s, 3);
    } else if (has_ec) {
        slot s[] = {{"error code", ec, 4, false}, {"EIP", ret_ip, 4, false}, {"CS", cs, 4, true},
                    {"EFLAGS", flags, 4, false}};
        expect_frame(step, s, 4);
    } else {
        slot s[] = {{"EIP", ret_ip, 4, false}, {"CS", cs, 4, true}, {"EFLAGS", flags, 4, false}};
        expect_frame(step, s, 3);
    }
}

/* A HLT exit at the first instruction of the handler of v, entered through
 * delivery: CS:IP is the handler, IF was cleared (interrupt gate / real mode),
 * activity active. */
static void expect_in_handler(const char *step, uint8_t v, bool launch)
{
    char s[200];
    snprintf(s, sizeof s, "%s (%s)", step, mode_name());
    if (launch)
        rf_launch_exit(s, R_HLT);
    else
        rf_resume_exit(s, R_HLT);
    rf_saved_rip(s, handler_ip(v));
    rf_field(s, VTX_VMCS_GUEST_CS_SELECTOR, "saved CS selector of the handler", handler_cs());
    if (mode == REAL)
        rf_field(s, VTX_VMCS_GUEST_CS_BASE, "saved CS base (selector * 16)", RM_HSEG * 16u);
    uint64_t fl = vt_vmread(&e, VTX_VMCS_GUEST_RFLAGS);
    cr_assert_eq(fl & (RFLAGS_IF | RFLAGS_TF), 0, "%s: delivery clears IF and TF (RFLAGS 0x%llx)", s,
                 (unsigned long long)fl);
    rf_field(s, VTX_VMCS_GUEST_ACTIVITY_STATE, "saved activity state (active)", ACT_ACTIVE);
    rf_field(s, VTX_VMCS_EXIT_INSTRUCTION_LEN, "HLT exit instruction length", 1);
}

/* ================= A.2 / A.3 blocking, the same code in both modes ================= */

/*
 * BLK-STI-1: STI with IF = 1 makes no shadow. Entry with blocking by MOV SS (IF =
 * 1) holds the first boundary, so the STI runs before the window can open.
 *   G+0 fb sti ; G+1 90 nop ; G+2 90 nop ; G+3 f4 hlt
 */
static void t_blk_sti_1(void)
{
    CODE_AT(G, 0xfb, 0x90, 0x90, 0xf4);
    iw_on();
    rf_state(ip(G), 0x202, IS_MOVSS, ACT_ACTIVE);
    iw_exit_at("BLK-STI-1: IF=1; sti", G + 1);
}
/* BLK-STI-1, BLK-STI-2 flip: the same code with IF = 0: the STI's shadow covers the nop. */
static void t_blk_sti_1_flip(void)
{
    CODE_AT(G, 0xfb, 0x90, 0x90, 0xf4);
    iw_on();
    rf_state(ip(G), 0x2, IS_MOVSS, ACT_ACTIVE);
    iw_exit_at("BLK-STI-1: IF=0; sti; nop", G + 2);
}

/*
 * BLK-STI-1, BLK-STI-2, BLK-STI-4 (kut vmx_intr_window_test "IF = 0"): nop; sti;
 * sti with IF = 0: only the first STI has a shadow (it covers the second STI);
 * the window opens at nop+3.
 *   G+0 90 nop ; G+1 fb sti ; G+2 fb sti ; G+3 f4 hlt
 */
static void t_blk_sti_4(void)
{
    CODE_AT(G, 0x90, 0xfb, 0xfb, 0xf4);
    iw_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    iw_exit_at("BLK-STI-4: IF=0; nop; sti; sti", G + 3);
}

/*
 * BLK-MSS-1 with MOV SS: entry with blocking by STI (IF = 1) holds the first
 * boundary; the MOV SS (reloading the SS the guest has) blocks the next one.
 *   G+0 8e d0 mov ss, ax ; G+2 90 nop ; G+3 90 nop ; G+4 f4 hlt
 */
static void t_blk_mss_1_mov(void)
{
    CODE_AT(G, 0x8e, 0xd0, 0x90, 0x90, 0xf4);
    set_gprs(ss_sel(), 0);
    iw_on();
    rf_state(ip(G), 0x202, IS_STI, ACT_ACTIVE);
    iw_exit_at("BLK-MSS-1: mov ss, ax; nop", G + 3);
    rf_field("BLK-MSS-1: mov ss, ax", VTX_VMCS_GUEST_SS_SELECTOR, "saved SS selector", ss_sel());
}
/* BLK-MSS-1 flip: MOV from SS loads nothing into SS: the window opens right after it.
 *   G+0 8c d0 mov ax, ss ; G+2 90 nop ; G+3 90 nop ; G+4 f4 hlt */
static void t_blk_mss_1_mov_flip(void)
{
    CODE_AT(G, 0x8c, 0xd0, 0x90, 0x90, 0xf4);
    iw_on();
    rf_state(ip(G), 0x202, IS_STI, ACT_ACTIVE);
    iw_exit_at("BLK-MSS-1: mov ax, ss; nop", G + 2);
}

/*
 * BLK-MSS-1 with POP SS (16/32-bit only: POP SS is #UD in 64-bit mode). The SS
 * value is on the stack at entry (2 bytes in real mode, 4 in 32-bit mode); entry
 * with blocking by STI holds the first boundary.
 *   G+0 17 pop ss ; G+1 90 nop ; G+2 90 nop ; G+3 f4 hlt
 */
static void t_blk_mss_1_pop(uint8_t opcode, const char *step, uint64_t exit_lin)
{
    CODE_AT(G, opcode, 0x90, 0x90, 0xf4);
    unsigned sz = mode == REAL ? 2 : 4;
    uint32_t v = ss_sel();
    memcpy(e.ram + STACK_TOP - sz, &v, sz);
    W(GUEST_RSP, (mode == REAL ? RM_SP : STACK_TOP) - sz);
    iw_on();
    rf_state(ip(G), 0x202, IS_STI, ACT_ACTIVE);
    iw_exit_at(step, exit_lin);
    cr_assert_eq(saved_stack_lin(), STACK_TOP, "%s (%s): the pop took %u bytes off the stack", step, mode_name(), sz);
}

/*
 * BLK-STI-5: sti; mov ss: the MOV SS runs in the STI shadow and makes MOV-SS
 * blocking of its own; the window opens only after the nop that follows, and no
 * boundary has bits 0 and 1 both set.
 *   G+0 fb sti ; G+1 8e d0 mov ss, ax ; G+3 90 nop ; G+4 90 nop ; G+5 f4 hlt
 */
static void t_blk_sti_5(void)
{
    CODE_AT(G, 0xfb, 0x8e, 0xd0, 0x90, 0x90, 0xf4);
    set_gprs(ss_sel(), 0);
    iw_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    iw_exit_at("BLK-STI-5: IF=0; sti; mov ss, ax; nop", G + 4);
    cr_assert_eq(rec.max_intr_both, 0, "BLK-STI-5 (%s): no boundary had blocking by STI and by MOV SS together",
                 mode_name());
}

/*
 * BLK-STI-6, IW-5: sti; hlt with IF = 0: HLT runs in the shadow; once it has
 * retired the window is open and the exit is taken from the HLT state, RIP at
 * hlt+1.
 *   G+0 fb sti ; G+1 f4 hlt ; G+2 90 nop
 */
static void t_blk_sti_6(void)
{
    CODE_AT(G, 0xfb, 0xf4, 0x90);
    iw_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    char s[120];
    snprintf(s, sizeof s, "BLK-STI-6: sti; hlt with IW exiting (%s)", mode_name());
    rf_launch_exit(s, R_IW);
    rf_saved(s, ip(G + 2), 0, ACT_HLT);
}
/* BLK-STI-6, BLK-STI-8 flip: with HLT exiting the exit (12) comes before HLT
 * executes: RIP at the hlt, blocking by STI saved, active. */
static void t_blk_sti_6_flip(void)
{
    CODE_AT(G, 0xfb, 0xf4, 0x90);
    iw_on();
    hlt_exiting_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    char s[120];
    snprintf(s, sizeof s, "BLK-STI-6: sti; hlt with HLT exiting (%s)", mode_name());
    rf_launch_exit(s, R_HLT);
    rf_saved(s, ip(G + 1), IS_STI, ACT_ACTIVE);
    rf_field(s, VTX_VMCS_EXIT_INSTRUCTION_LEN, "instruction length", 1);
}

/*
 * BLK-STI-7: sti; cli: CLI runs in the shadow and clears IF; no window ever opens
 * and the guest halts without a VM exit.
 *   G+0 fb sti ; G+1 fa cli ; G+2 90 nop ; G+3 f4 hlt
 */
static void t_blk_sti_7(void)
{
    CODE_AT(G, 0xfb, 0xfa, 0x90, 0xf4);
    iw_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    char s[120];
    snprintf(s, sizeof s, "BLK-STI-7: sti; cli; nop; hlt (%s)", mode_name());
    rf_launch_stopped(s);
    cr_assert_eq(rec.last.activity, ACT_HLT, "%s: the guest reached its hlt", s);
    cr_assert_eq(rec.last.rip, ip(G + 4), "%s: halted after the hlt", s);
}
/* BLK-STI-7 flip: sti; nop; cli: the window opens before the CLI.
 *   G+0 fb sti ; G+1 90 nop ; G+2 fa cli ; G+3 f4 hlt */
static void t_blk_sti_7_flip(void)
{
    CODE_AT(G, 0xfb, 0x90, 0xfa, 0xf4);
    iw_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    iw_exit_at("BLK-STI-7: sti; nop; cli", G + 2);
}

/*
 * BLK-STI-9: POPF setting IF makes no shadow: the exit comes right after it.
 *   real:   G+0 68 02 02 push 0x202 ;          G+3 9d popf  ; G+4 90 nop ; G+5 90 nop ; G+6 f4 hlt
 *   32-bit: G+0 68 02 02 00 00 push 0x202 ;    G+5 9d popfd ; G+6 90 nop ; G+7 90 nop ; G+8 f4 hlt
 * The flip has STI in place of the POPF (shadow: one instruction later).
 */
static void t_blk_sti_9(bool sti_instead)
{
    uint8_t last = sti_instead ? 0xfb : 0x9d;
    uint64_t after;
    if (mode == REAL) {
        CODE_AT(G, 0x68, 0x02, 0x02);
        CODE_AT(G + 3, last, 0x90, 0x90, 0xf4);
        after = G + 4;
    } else {
        CODE_AT(G, 0x68, 0x02, 0x02, 0x00, 0x00);
        CODE_AT(G + 5, last, 0x90, 0x90, 0xf4);
        after = G + 6;
    }
    iw_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    if (sti_instead)
        iw_exit_at("BLK-STI-9 flip: push 0x202; sti; nop", after + 1);
    else
        iw_exit_at("BLK-STI-9: push 0x202; popf", after);
}

/* ======================= E.3 injection and delivery ======================= */

/*
 * INJ-6, INJ-7, INJ-8: an injected external interrupt (type 0, vector 0x30) with
 * IF = 1 is delivered through the IVT / the 32-bit IDT; the frame holds the guest
 * RIP (types 0-3: RIP as is), CS, and the guest FLAGS with IF = 1; the handler
 * runs with IF = 0.
 *   G+0 90 nop ;  H(0x30): f4 hlt
 */
static void t_inj_ext(void)
{
    CODE_AT(G, 0x90, 0xf4);
    hlt_handler(0x30);
    hlt_exiting_on();
    rf_state(ip(G), 0x202, 0, ACT_ACTIVE);
    rf_inject(INTR(0, 0x30), 0, 0);
    expect_in_handler("INJ-6: injected external interrupt 0x30", 0x30, true);
    expect_delivery_frame("INJ-7: external interrupt frame", (uint32_t)ip(G), mode == REAL ? RM_CS : P_CS, 0x202,
                          false, 0);
    rf_field("INJ-4", VTX_VMCS_ENTRY_INTR_INFO, "entry interruption information (valid cleared by the exit)",
             INTR(0, 0x30) & ~0x80000000u);
}

/*
 * INJ-7: an injected INT n (type 4, vector 0x40, instruction length 2) pushes
 * RIP + length as the return address.
 *   G+0 cd 40 int 0x40 (not executed: the VMM injects it) ;  H(0x40): f4 hlt
 */
static void t_inj_int_n(void)
{
    CODE_AT(G, 0xcd, 0x40, 0xf4);
    hlt_handler(0x40);
    hlt_exiting_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    rf_inject(INTR(4, 0x40), 0, 2);
    expect_in_handler("INJ-7: injected INT 0x40, length 2", 0x40, true);
    expect_delivery_frame("INJ-7: INT n frame (return address RIP + 2)", (uint32_t)ip(G + 2),
                          mode == REAL ? RM_CS : P_CS, 0x2, false, 0);
}

/*
 * INJ-7, INJ-9: an injected #GP (type 3, vector 13). 32-bit mode: with
 * deliver-error-code = 1 the error code 0x0abc is pushed below EIP. Real mode:
 * deliver-error-code must be 0 (INJ-CHK-3) and nothing is pushed below IP.
 *   G+0 90 nop ;  H(13): f4 hlt
 */
static void t_inj_gp(void)
{
    CODE_AT(G, 0x90, 0xf4);
    hlt_handler(13);
    hlt_exiting_on();
    rf_state(ip(G), 0x202, 0, ACT_ACTIVE);
    bool ec = mode != REAL;
    rf_inject(ec ? INTR_EC(3, 13) : INTR(3, 13), ec ? 0x0abc : 0, 0);
    expect_in_handler("INJ-9: injected #GP", 13, true);
    expect_delivery_frame(ec ? "INJ-9: #GP frame with the error code" : "INJ-9: #GP frame, no error code in real mode",
                          (uint32_t)ip(G), mode == REAL ? RM_CS : P_CS, 0x202, ec, 0x0abc);
}

/* ==================== exceptions raised by the guest itself ==================== */

/*
 * A fault raised by a guest instruction is delivered through the guest's own
 * IVT / IDT with the faulting instruction's address as the return address.
 *   #UD: G+0 90 nop ; G+1 0f 0b ud2          ;  H(6): f4 hlt
 *   #DE: G+0 90 nop ; G+1 f6 f3 div bl (BL=0) ;  H(0): f4 hlt
 */
static void t_guest_fault_delivered(uint8_t vector)
{
    if (vector == 6)
        CODE_AT(G, 0x90, 0x0f, 0x0b, 0xf4);
    else
        CODE_AT(G, 0x90, 0xf6, 0xf3, 0xf4);
    set_gprs(0x1234, 0);
    hlt_handler(vector);
    hlt_exiting_on();
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    expect_in_handler(vector == 6 ? "guest ud2, #UD delivered" : "guest div by 0, #DE delivered", vector, true);
    expect_delivery_frame(vector == 6 ? "#UD frame (return address: the ud2)" : "#DE frame (return address: the div)",
                          (uint32_t)ip(G + 1), mode == REAL ? RM_CS : P_CS, mode == REAL ? 0x2 : RF_FAULT | 0x2, false, 0);
}

/* The same faults with their bit in the exception bitmap: exit reason 0 with the
 * interruption information, RIP at the faulting instruction, nothing pushed. */
static void t_guest_fault_exits(uint8_t vector)
{
    if (vector == 6)
        CODE_AT(G, 0x90, 0x0f, 0x0b, 0xf4);
    else
        CODE_AT(G, 0x90, 0xf6, 0xf3, 0xf4);
    set_gprs(0x1234, 0);
    hlt_handler(vector);
    W(EXCEPTION_BITMAP, 1u << vector);
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    char s[120];
    snprintf(s, sizeof s, "guest %s with bit %u in the exception bitmap (%s)", vector == 6 ? "ud2" : "div by 0",
             vector, mode_name());
    rf_launch_exit(s, R_EXC);
    rf_field(s, VTX_VMCS_EXIT_INTR_INFO, "exit interruption information", INTR(3, vector));
    rf_saved(s, ip(G + 1), 0, ACT_ACTIVE);
    cr_assert_eq(saved_stack_lin(), STACK_TOP, "%s: the stack pointer did not move", s);
    for (unsigned k = 1; k <= 16; k++)
        cr_assert_eq(e.ram[STACK_TOP - k], FILL, "%s: nothing was pushed (byte at 0x%x)", s, STACK_TOP - k);
}

/* ================================ real mode ================================ */

TestSuite(modes_real, .init = setup_real, .fini = rf_teardown);

/* The guest really runs 16-bit code: b8 is "mov ax, imm16" (3 bytes), so the
 * vmcall is at G+3 and only AX changes.
 *   G+0 b8 44 33 mov ax, 0x3344 ; G+3 0f 01 c1 vmcall */
Test(modes_real, guest_runs_16bit_code)
{
    CODE_AT(G, 0xb8, 0x44, 0x33, 0x0f, 0x01, 0xc1);
    set_gprs(0xAAAA0000u, 0);
    rf_launch_exit("mov ax, imm16; vmcall in real mode", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("vmcall in real mode", ip(G + 3));
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    cr_assert_eq(g.rax, 0xAAAA3344u, "a 16-bit MOV writes AX only (RAX 0x%llx)", (unsigned long long)g.rax);
    rf_field("real mode", VTX_VMCS_GUEST_CR0, "saved CR0 (PE = 0)", 0x30);
}

Test(modes_real, blk_sti_1_sti_with_if1_makes_no_shadow) { VTX_COVERS("BLK-STI-1"); t_blk_sti_1(); }
Test(modes_real, blk_sti_1_flip_sti_with_if0_makes_a_shadow) { VTX_COVERS("BLK-STI-1"); t_blk_sti_1_flip(); }
Test(modes_real, blk_sti_4_nop_sti_sti_exits_at_nop_plus_3) { VTX_COVERS("BLK-STI-4"); t_blk_sti_4(); }
Test(modes_real, blk_mss_1_mov_ss_blocks_the_next_boundary) { VTX_COVERS("BLK-MSS-1"); t_blk_mss_1_mov(); }
Test(modes_real, blk_mss_1_flip_mov_from_ss_does_not_block) { VTX_COVERS("BLK-MSS-1"); t_blk_mss_1_mov_flip(); }
/* BLK-MSS-1: POP SS blocks the next boundary: exit after the nop. */
Test(modes_real, blk_mss_1_pop_ss_blocks_the_next_boundary)
{
    VTX_COVERS("BLK-MSS-1");
    t_blk_mss_1_pop(0x17, "BLK-MSS-1: pop ss; nop", G + 2);
}
/* BLK-MSS-1 flip: POP DS (1f) in its place blocks nothing: exit right after it. */
Test(modes_real, blk_mss_1_flip_pop_ds_does_not_block)
{
    VTX_COVERS("BLK-MSS-1");
    t_blk_mss_1_pop(0x1f, "BLK-MSS-1 flip: pop ds", G + 1);
}
Test(modes_real, blk_sti_5_sti_mov_ss_extends_the_window) { VTX_COVERS("BLK-STI-5"); t_blk_sti_5(); }
Test(modes_real, blk_sti_6_sti_hlt_window_opens_in_hlt) { VTX_COVERS("BLK-STI-6"); t_blk_sti_6(); }
Test(modes_real, blk_sti_6_flip_hlt_exiting_exits_at_the_hlt_in_the_shadow) { VTX_COVERS("BLK-STI-6"); t_blk_sti_6_flip(); }
Test(modes_real, blk_sti_7_sti_cli_never_opens) { VTX_COVERS("BLK-STI-7"); t_blk_sti_7(); }
Test(modes_real, blk_sti_7_flip_cli_after_the_shadow_is_too_late) { VTX_COVERS("BLK-STI-7"); t_blk_sti_7_flip(); }
Test(modes_real, blk_sti_9_popf_setting_if_makes_no_shadow) { VTX_COVERS("BLK-STI-9"); t_blk_sti_9(false); }
Test(modes_real, blk_sti_9_flip_sti_in_place_of_popf_makes_a_shadow) { VTX_COVERS("BLK-STI-9"); t_blk_sti_9(true); }

Test(modes_real, inj_6_external_interrupt_through_the_ivt) { VTX_COVERS("INJ-6"); t_inj_ext(); }
Test(modes_real, inj_7_int_n_pushes_rip_plus_length) { VTX_COVERS("INJ-7"); t_inj_int_n(); }
Test(modes_real, inj_9_gp_pushes_no_error_code_in_real_mode) { VTX_COVERS("INJ-9"); t_inj_gp(); }

/*
 * INJ-CHK-3 (the reason for the test above): in real mode (unrestricted guest,
 * CR0.PE = 0) deliver-error-code = 1 fails VM entry with VMfailValid(7).
 */
Test(modes_real, inj_9_error_code_bit_in_real_mode_fails_entry)
{
    VTX_COVERS("INJ-9", "INJ-CHK-3");
    rf_inject(INTR_EC(3, 13), 0, 0);
    vtx_insn_result r;
    vt_expect("INJ-CHK-3: #GP with an error code into real mode", vtx_vmlaunch(e.m, &r), &r, VTX_VMFAIL_VALID, 7);
}

/*
 * INJ-6, INJ-7: the IVT entry for vector 0x30 lies beyond IDTR.limit (0x3F:
 * vectors 0-15): a nested #GP is delivered through IVT entry 13 instead, with the
 * guest RIP as return address although the event was an INT n with length 2.
 *   H(13): f4 hlt
 */
Test(modes_real, inj_6_ivt_limit_violation_delivers_gp)
{
    VTX_COVERS("INJ-6", "INJ-7");
    CODE_AT(G, 0xcd, 0x30, 0xf4);
    hlt_handler(13);
    hlt_handler(0x30); /* beyond the limit: never used */
    hlt_exiting_on();
    W(GUEST_IDTR_LIMIT, 0x3F);
    rf_state(ip(G), 0x2, 0, ACT_ACTIVE);
    rf_inject(INTR(4, 0x30), 0, 2);
    expect_in_handler("INJ-6: INT 0x30 beyond IDTR.limit -> #GP", 13, true);
    expect_delivery_frame("INJ-7: the nested #GP's frame holds the guest RIP", (uint32_t)ip(G), RM_CS, 0x2, false, 0);
}

Test(modes_real, guest_ud2_delivered_through_the_ivt) { t_guest_fault_delivered(6); }
Test(modes_real, guest_ud2_exits_when_in_the_exception_bitmap) { t_guest_fault_exits(6); }
Test(modes_real, guest_divide_error_delivered_through_the_ivt) { t_guest_fault_delivered(0); }
Test(modes_real, guest_divide_error_exits_when_in_the_exception_bitmap) { t_guest_fault_exits(0); }

/* ============================ 32-bit protected mode ============================ */

TestSuite(modes_prot32, .init = setup_prot32, .fini = rf_teardown);

/* The guest really runs 32-bit code: b8 is "mov eax, imm32" (5 bytes).
 *   G+0 b8 44 33 22 11 mov eax, 0x11223344 ; G+5 0f 01 c1 vmcall */
Test(modes_prot32, guest_runs_32bit_code)
{
    CODE_AT(G, 0xb8, 0x44, 0x33, 0x22, 0x11, 0x0f, 0x01, 0xc1);
    set_gprs(0xFFFFFFFF00000000ull, 0);
    rf_launch_exit("mov eax, imm32; vmcall in 32-bit mode", VTX_EXIT_REASON_VMCALL);
    rf_saved_rip("vmcall in 32-bit mode", G + 5);
    vtx_gprs g;
    cr_assert_eq(vtx_machine_get_gprs(e.m, &g), VTX_OK);
    cr_assert_eq((uint32_t)g.rax, 0x11223344u, "a 32-bit MOV writes EAX (RAX 0x%llx)", (unsigned long long)g.rax);
    rf_field("32-bit mode", VTX_VMCS_GUEST_CS_AR, "saved CS access rights (32-bit code)", 0xC09B);
}

Test(modes_prot32, blk_sti_1_sti_with_if1_makes_no_shadow) { VTX_COVERS("BLK-STI-1"); t_blk_sti_1(); }
Test(modes_prot32, blk_sti_1_flip_sti_with_if0_makes_a_shadow) { VTX_COVERS("BLK-STI-1"); t_blk_sti_1_flip(); }
Test(modes_prot32, blk_sti_4_nop_sti_sti_exits_at_nop_plus_3) { VTX_COVERS("BLK-STI-4"); t_blk_sti_4(); }
Test(modes_prot32, blk_mss_1_mov_ss_blocks_the_next_boundary) { VTX_COVERS("BLK-MSS-1"); t_blk_mss_1_mov(); }
Test(modes_prot32, blk_mss_1_flip_mov_from_ss_does_not_block) { VTX_COVERS("BLK-MSS-1"); t_blk_mss_1_mov_flip(); }
/* BLK-MSS-1: POP SS (a 32-bit pop of the selector 0x10) blocks the next boundary. */
Test(modes_prot32, blk_mss_1_pop_ss_blocks_the_next_boundary)
{
    VTX_COVERS("BLK-MSS-1");
    t_blk_mss_1_pop(0x17, "BLK-MSS-1: pop ss; nop", G + 2);
}
/* BLK-MSS-1 flip: POP DS blocks nothing. */
Test(modes_prot32, blk_mss_1_flip_pop_ds_does_not_block)
{
    VTX_COVERS("BLK-MSS-1");
    t_blk_mss_1_pop(0x1f, "BLK-MSS-1 flip: pop ds", G + 1);
}
Test(modes_prot32, blk_sti_5_sti_mov_ss_extends_the_window) { VTX_COVERS("BLK-STI-5"); t_blk_sti_5(); }
Test(modes_prot32, blk_sti_6_sti_hlt_window_opens_in_hlt) { VTX_COVERS("BLK-STI-6"); t_blk_sti_6(); }
Test(modes_prot32, blk_sti_6_flip_hlt_exiting_exits_at_the_hlt_in_the_shadow) { VTX_COVERS("BLK-STI-6"); t_blk_sti_6_flip(); }
Test(modes_prot32, blk_sti_7_sti_cli_never_opens) { VTX_COVERS("BLK-STI-7"); t_blk_sti_7(); }
Test(modes_prot32, blk_sti_7_flip_cli_after_the_shadow_is_too_late) { VTX_COVERS("BLK-STI-7"); t_blk_sti_7_flip(); }
Test(modes_prot32, blk_sti_9_popf_setting_if_makes_no_shadow) { VTX_COVERS("BLK-STI-9"); t_blk_sti_9(false); }
Test(modes_prot32, blk_sti_9_flip_sti_in_place_of_popf_makes_a_shadow) { VTX_COVERS("BLK-STI-9"); t_blk_sti_9(true); }

Test(modes_prot32, inj_6_external_interrupt_through_a_32bit_interrupt_gate) { VTX_COVERS("INJ-6"); t_inj_ext(); }
Test(modes_prot32, inj_7_int_n_pushes_eip_plus_length) { VTX_COVERS("INJ-7"); t_inj_int_n(); }
Test(modes_prot32, inj_9_gp_pushes_its_error_code_below_eip) { VTX_COVERS("INJ-9"); t_inj_gp(); }

/*
 * INJ-15, INJ-7: delivery of an injected event through a not-present gate raises
 * #NP(vector * 8 + 2 + EXT), delivered through the #NP gate with the guest RIP as
 * return address. EXT = 1 for an external interrupt (type 0), 0 for INT n (type 4).
 *   H(11): f4 hlt ; gate 0x30 not present
 */
static void t_inj_15(uint32_t type, uint32_t len, uint32_t ext)
{
    CODE_AT(G, 0xcd, 0x30, 0xf4);
    hlt_handler(11);
    vector_to(0x30, false);
    hlt_exiting_on();
    rf_state(G, type == 0 ? 0x202 : 0x2, 0, ACT_ACTIVE);
    rf_inject(INTR(type, 0x30), 0, len);
    expect_in_handler("INJ-15: vector 0x30 through a not-present gate -> #NP", 11, true);
    expect_delivery_frame("INJ-15: #NP frame (error code 0x30 * 8 + IDT + EXT; return address RIP; RF = 1 for a fault)",
                          G, P_CS, RF_FAULT | (type == 0 ? 0x202 : 0x2), true, 0x30 * 8 + 2 + ext);
}
Test(modes_prot32, inj_15_external_interrupt_nested_np_has_ext_set) { VTX_COVERS("INJ-15"); t_inj_15(0, 0, 1); }
Test(modes_prot32, inj_15_int_n_nested_np_has_ext_clear) { VTX_COVERS("INJ-15"); t_inj_15(4, 2, 0); }

Test(modes_prot32, guest_ud2_delivered_through_the_idt) { t_guest_fault_delivered(6); }
Test(modes_prot32, guest_ud2_exits_when_in_the_exception_bitmap) { t_guest_fault_exits(6); }
Test(modes_prot32, guest_divide_error_delivered_through_the_idt) { t_guest_fault_delivered(0); }
Test(modes_prot32, guest_divide_error_exits_when_in_the_exception_bitmap) { t_guest_fault_exits(0); }

/*
 * A guest fault with an error code: MOV SS with the TSS selector 0x18 raises
 * #GP(0x18) (a system segment cannot be loaded into SS); delivered through the
 * IDT, the frame has the error code below EIP = the MOV SS; the failed MOV SS
 * makes no MOV-SS blocking.
 *   G+0 8e d0 mov ss, ax (AX = 0x18) ;  H(13): f4 hlt
 */
Test(modes_prot32, guest_gp_with_error_code_delivered_through_the_idt)
{
    CODE_AT(G, 0x8e, 0xd0, 0xf4);
    set_gprs(P_TSS, 0);
    hlt_handler(13);
    hlt_exiting_on();
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    expect_in_handler("guest mov ss, 0x18 -> #GP(0x18) delivered", 13, true);
    expect_delivery_frame("#GP(0x18) frame (RF = 1: a fault)", G, P_CS, RF_FAULT | 0x2, true, P_TSS);
    rf_field("#GP from mov ss", VTX_VMCS_GUEST_SS_SELECTOR, "SS selector (not loaded)", P_DS);
    rf_field("#GP from mov ss", VTX_VMCS_GUEST_INTERRUPTIBILITY, "saved interruptibility", 0);
}

Test(modes_prot32, guest_gp_with_error_code_exits_when_in_the_exception_bitmap)
{
    CODE_AT(G, 0x8e, 0xd0, 0xf4);
    set_gprs(P_TSS, 0);
    W(EXCEPTION_BITMAP, 1u << 13);
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("guest mov ss, 0x18 with #GP intercepted", R_EXC);
    rf_field("#GP exit", VTX_VMCS_EXIT_INTR_INFO, "exit interruption information (#GP, error code valid)",
             INTR_EC(3, 13));
    rf_field("#GP exit", VTX_VMCS_EXIT_INTR_ERROR_CODE, "exit interruption error code", P_TSS);
    rf_saved("#GP exit", G, 0, ACT_ACTIVE);
    cr_assert_eq(saved_stack_lin(), STACK_TOP, "#GP exit: nothing was pushed");
}

/* ============================ 64-bit (regression) ============================ */

TestSuite(modes_long64, .init = rf_setup, .fini = rf_teardown);

/*
 * The engine fix this file found (cpu/engine.c fresh_fault_history) in the
 * baseline 64-bit guest: a divide error raised by the guest is reported as #DE
 * (vector 0), not escalated to #DF by a stale fault from the engine's own run
 * set-up (SDM Vol. 3 Table 6-5: #DE alone is just #DE).
 *   G+0 f6 f3 div bl (BL = 0)
 */
Test(modes_long64, guest_divide_error_is_not_a_double_fault)
{
    mode = PROT32; /* flat: ip() is the identity */
    CODE_AT(G, 0xf6, 0xf3, 0xf4);
    set_gprs(0x1234, 0);
    W(EXCEPTION_BITMAP, (1u << 0) | (1u << 8));
    rf_state(G, 0x2, 0, ACT_ACTIVE);
    rf_launch_exit("64-bit guest div by 0 with #DE and #DF intercepted", R_EXC);
    rf_field("64-bit #DE", VTX_VMCS_EXIT_INTR_INFO, "exit interruption information (#DE, not #DF)", INTR(3, 0));
    rf_saved_rip("64-bit #DE: RIP at the div", G);
}
