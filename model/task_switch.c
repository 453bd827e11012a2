/*
 * Task switches in VMX non-root operation (SDM Vol. 3 "Treatment of Task
 * Switches", Table "Exit Qualification for Task Switches", "Information for VM
 * Exits During Event Delivery"; catalogue EXIT-2 reason 9, EXIT-3, EXIT-5,
 * EXIT-6, INJ-6, INJ-18).
 *
 * Task switches are not allowed in VMX non-root operation: any attempt causes
 * a VM exit, but only after the checks the SDM lists (the task gate's P bit and
 * privilege, the new TSS selector, its descriptor's type, P, S and limit:
 * cpu/task_switch.c) have passed; a failing check raises its fault instead
 * (which may itself exit through the exception bitmap). The four sources: far
 * CALL and JMP to a TSS descriptor or a task gate, IRET with RFLAGS.NT = 1, and
 * an event delivered through a task gate in the IDT (a guest's interrupt or
 * exception, or an injected event).
 *
 * CALL, JMP and IRET exit before the instruction does anything (fault-like: RIP
 * on it, the instruction length recorded, blocking by STI / MOV SS kept,
 * BLK-STI-8; an IRET exits before it unblocks NMIs, as only a fault of IRET
 * unblocks them, SDM "Architectural State Before a VM Exit"). A task gate in the
 * IDT exits during the event's delivery: the IDT-vectoring information describes
 * the event (execute.c applies what any exit during delivery saves).
 *
 * Where the SDM leaves the order open ("a page fault from accessing the old TSS
 * or the new TSS" vs the VM exit, catalogue DIFF-11), the model exits: neither
 * TSS is read, except IRET's back link, which names the new task.
 */
#include "task_switch.h"

/* The selector of a far JMP/CALL: the immediate one, or the 16 bits after the
 * offset of the far pointer in memory. False when the pointer cannot be read
 * here (outside its segment, an unusable or expand-down segment, a #PF or
 * unmapped memory): the engine then performs the instruction and its fault. */
static bool far_selector(const vtx_machine *m, const vtx_insn *insn, uint16_t *sel)
{
    if (insn->far_direct) {
        *sel = insn->far_sel;
        return true;
    }
    if (!insn->has_mem)
        return false;
    const vtx_cpu_state *c = &m->g.cpu;
    const vtx_cpu_seg *sg = &c->seg[insn->mem_seg < VTX_S_LDTR ? insn->mem_seg : VTX_S_DS];
    uint64_t off = vtx_insn_offset(m, insn) + insn->op_size;
    bool expand_down = (sg->ar & 0x1C) == 0x14; /* data segment (S = 1, bit 3 = 0) with E = 1 */
    if ((sg->ar & VTX_AR_UNUSABLE) || expand_down || off + 1 > sg->limit)
        return false;
    const vtx_paging_caps caps = vtx_guest_caps(m);
    uint8_t b[2];
    for (unsigned i = 0; i < 2; i++) {
        uint64_t pa;
        uint32_t ec;
        uint64_t la = (sg->base + off + i) & 0xFFFFFFFFull;
        if (vtx_translate_ex(c, vtx_gmem(m), &caps, la, VTX_ACC_NO_AD | (vtx_cpu_cpl(c) == 3 ? VTX_ACC_USER : 0),
                             &pa, &ec) != VTX_XLATE_OK ||
            !vtx_gmem(m)->read || !vtx_gmem(m)->read(vtx_gmem(m)->ctx, pa, &b[i], 1))
            return false;
    }
    *sel = (uint16_t)(b[0] | b[1] << 8);
    return true;
}

void vtx_task_switch_of_insn(const vtx_machine *m, const vtx_insn *insn, vtx_task_check *tc)
{
    const vtx_paging_caps caps = vtx_guest_caps(m);
    uint16_t sel;
    *tc = (vtx_task_check){.outcome = VTX_TASK_NONE};
    switch (insn->cls) {
    case VTX_IC_IRET:
        vtx_task_check_iret(&m->g.cpu, vtx_gmem(m), &caps, tc);
        break;
    case VTX_IC_JMP_FAR:
    case VTX_IC_CALL_FAR:
        if (far_selector(m, insn, &sel))
            vtx_task_check_far(&m->g.cpu, vtx_gmem(m), &caps,
                               insn->cls == VTX_IC_JMP_FAR ? VTX_TASK_JMP : VTX_TASK_CALL, sel, tc);
        break;
    default:
        break;
    }
}

void vtx_task_switch_exit(const vtx_task_check *tc, const vtx_insn *insn, vtx_exit_info *ex)
{
    *ex = (vtx_exit_info){
        .reason = VTX_EXIT_REASON_TASK_SWITCH,
        .qualification = tc->tss_selector | (uint64_t)tc->source << 30,
        .instruction_len = insn->len, /* EXIT-6: CALL, IRET, JMP */
    };
}

void vtx_task_switch_gate_exit(uint16_t tss_selector, const vtx_delivery *d, vtx_exit_info *ex)
{
    *ex = (vtx_exit_info){
        .reason = VTX_EXIT_REASON_TASK_SWITCH,
        .qualification = tss_selector | (uint64_t)VTX_TASK_IDT_GATE << 30,
        /* EXIT-5: the event whose delivery reached the gate (it is not delivered). */
        .idt_vectoring_info = vtx_intr_info(d->vector, d->type, d->has_error_code),
        .idt_vectoring_error = d->has_error_code ? d->error_code : 0,
        /* EXIT-6, INJ-18: software interrupts and exceptions keep their length. */
        .instruction_len = d->type >= VTX_EVT_SW_INT ? d->insn_len : 0,
    };
}
