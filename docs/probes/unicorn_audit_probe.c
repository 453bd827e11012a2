/*
 * Probe: which architectural side effects does Unicorn 2.0.1 (QEMU 5.0 TCG)
 * perform for system-level x86 code? Each probe builds a fresh 32-bit
 * protected-mode machine (flat GDT, no paging), runs a few instructions and
 * prints what it found. The result feeds docs/unicorn-audit.md.
 *
 *   cc -O1 -o /tmp/uc_probe docs/probes/unicorn_audit_probe.c -lunicorn && /tmp/uc_probe
 *
 * Not part of the build: the facts it prints are what the model's workarounds
 * (cpu/seg_accessed.c, model/cr0_insn.c, model/debug_regs.c, ...) rest on.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define GDT 0x800u
#define TSS 0x3000u
#define CODE 0x1000u
#define DATA 0x6000u
#define STACK0 0x8000u
#define STACK3 0x7000u

/* GDT entries (selector: descriptor) */
#define D_CODE0 0x00CF9B000000FFFFull  /* 0x08 code, DPL 0, accessed */
#define D_DATA0 0x00CF93000000FFFFull  /* 0x10 data, DPL 0, accessed */
#define D_CODE0_NA 0x00CF9A000000FFFFull
#define D_DATA0_NA 0x00CF92000000FFFFull
#define D_CODE3 0x00CFFB000000FFFFull  /* code, DPL 3 */
#define D_DATA3 0x00CFF3000000FFFFull  /* data, DPL 3 */
#define D_DATA0_SMALL 0x004093000000000Full /* data, byte granular, limit 0xF, accessed */

static int last_intno;
static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
    (void)user;
    last_intno = (int)intno;
    uc_emu_stop(uc);
}

typedef struct probe {
    uc_engine *uc;
    uint8_t mem[0x10000];
} probe;

static uint64_t gdt_read(uc_engine *uc, unsigned sel)
{
    uint64_t d = 0;
    uc_mem_read(uc, GDT + (sel & ~7u), &d, 8);
    return d;
}

/* A fresh machine: GDT with entries 0x08..0x60, CS 0x08, SS/DS/ES 0x10. */
static uc_engine *machine(const uint8_t *code, size_t n)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK)
        return NULL;
    uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL);
    uint64_t gdt[16] = {0};
    gdt[1] = D_CODE0;
    gdt[2] = D_DATA0;
    gdt[3] = D_CODE0_NA;                     /* 0x18 */
    gdt[4] = D_DATA0_NA;                     /* 0x20 */
    gdt[5] = D_CODE3;                        /* 0x28 */
    gdt[6] = D_DATA3;                        /* 0x30 */
    gdt[7] = 0x67 | ((uint64_t)TSS << 16) | (0x89ull << 40); /* 0x38 available 32-bit TSS */
    gdt[8] = D_DATA0_NA;                     /* 0x40 */
    gdt[9] = D_CODE0_NA;                     /* 0x48 */
    gdt[10] = D_CODE0_NA;                    /* 0x50 */
    gdt[11] = D_CODE0_NA;                    /* 0x58 */
    gdt[12] = D_DATA0_SMALL;                 /* 0x60 */
    uc_mem_write(uc, GDT, gdt, sizeof gdt);
    uc_x86_mmr gdtr = {0, GDT, sizeof gdt - 1, 0};
    uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    uint32_t cr0 = 0x11;
    uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    uint32_t cs = 0x08, ds = 0x10, esp = STACK0;
    uc_reg_write(uc, UC_X86_REG_CS, &cs);
    uc_reg_write(uc, UC_X86_REG_SS, &ds);
    uc_reg_write(uc, UC_X86_REG_DS, &ds);
    uc_reg_write(uc, UC_X86_REG_ES, &ds);
    uc_reg_write(uc, UC_X86_REG_ESP, &esp);
    uc_mem_write(uc, CODE, code, n);
    uc_hook h;
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0);
    last_intno = -1;
    return uc;
}

static uc_err run(uc_engine *uc, size_t n, size_t count)
{
    return uc_emu_start(uc, CODE, CODE + n, 0, count);
}

static uint32_t reg(uc_engine *uc, int r)
{
    uint64_t v = 0;
    uc_reg_read(uc, r, &v);
    return (uint32_t)v;
}

#define PROBE(name, ...)                                                                                  \
    static const uint8_t name##_code[] = {__VA_ARGS__};                                                    \
    uc_engine *uc = machine(name##_code, sizeof name##_code);                                               \
    uc_err err = run(uc, sizeof name##_code, 0)

/* The CPL-3 prologue: iretd to 0x2b:CODE+N with SS 0x33:STACK3 and EFLAGS from imm32. */
#define TO_RING3(eflags_lo, eflags_hi, target_lo)                                                          \
    0x6a, 0x33, 0x68, 0x00, 0x70, 0x00, 0x00, 0x68, eflags_lo, eflags_hi, 0x04, 0x00, 0x6a, 0x2b, 0x68,   \
        target_lo, 0x10, 0x00, 0x00, 0xcf

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    {   /* jmp far 0x18:CODE+7 ; nop */
        PROBE(p, 0xea, 0x07, 0x10, 0x00, 0x00, 0x18, 0x00, 0x90);
        printf("far JMP, descriptor A=0:  err=%d CS=0x%x  GDT accessed bit after: %d\n", err, reg(uc, UC_X86_REG_CS),
               (int)((gdt_read(uc, 0x18) >> 40) & 1));
        uc_close(uc);
    }
    {   /* call far 0x58:CODE+7 ; nop */
        PROBE(p, 0x9a, 0x07, 0x10, 0x00, 0x00, 0x58, 0x00, 0x90);
        printf("far CALL, descriptor A=0: err=%d CS=0x%x  GDT accessed bit after: %d\n", err, reg(uc, UC_X86_REG_CS),
               (int)((gdt_read(uc, 0x58) >> 40) & 1));
        uc_close(uc);
    }
    {   /* push 0x50 ; push CODE+9 ; retf ; nop */
        PROBE(p, 0x6a, 0x50, 0x68, 0x09, 0x10, 0x00, 0x00, 0xcb, 0x90, 0x90);
        printf("far RET, descriptor A=0:  err=%d CS=0x%x  GDT accessed bit after: %d\n", err, reg(uc, UC_X86_REG_CS),
               (int)((gdt_read(uc, 0x50) >> 40) & 1));
        uc_close(uc);
    }
    {   /* pushfd ; push 0x48 ; push CODE+0xa ; iretd ; nop */
        PROBE(p, 0x9c, 0x6a, 0x48, 0x68, 0x0a, 0x10, 0x00, 0x00, 0xcf, 0x90, 0x90);
        printf("IRETD, descriptor A=0:    err=%d CS=0x%x  GDT accessed bit after: %d\n", err, reg(uc, UC_X86_REG_CS),
               (int)((gdt_read(uc, 0x48) >> 40) & 1));
        uc_close(uc);
    }
    {   /* mov ax, 0x20 ; mov ds, ax ; push 0x40 ; pop es */
        PROBE(p, 0x66, 0xb8, 0x20, 0x00, 0x8e, 0xd8, 0x6a, 0x40, 0x07);
        printf("MOV DS / POP ES, A=0:      err=%d  GDT accessed bits after: DS %d, ES %d\n", err,
               (int)((gdt_read(uc, 0x20) >> 40) & 1), (int)((gdt_read(uc, 0x40) >> 40) & 1));
        uc_close(uc);
    }
    {   /* mov ax, 0x38 ; ltr ax */
        PROBE(p, 0x66, 0xb8, 0x38, 0x00, 0x0f, 0x00, 0xd8);
        printf("LTR of an available TSS:   err=%d  type after: 0x%x (0xB = busy)\n", err,
               (unsigned)((gdt_read(uc, 0x38) >> 40) & 0xF));
        uc_close(uc);
    }
    {   /* mov eax, 0x2400 ; mov dr7, eax ; mov eax, dr0 ; nop */
        PROBE(p, 0xb8, 0x00, 0x24, 0x00, 0x00, 0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc0, 0x90);
        printf("MOV DR with DR7.GD = 1:    err=%d  exception %d  EIP=0x%x  DR6=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP), reg(uc, UC_X86_REG_DR6));
        uc_close(uc);
    }
    /* The breakpoint probes crash Unicorn 2.0.1 (SIGSEGV): only with "bp" as the argument. */
    if (argc > 1 && !strcmp(argv[1], "bp")) {   /* mov eax, CODE+0x10 ; mov dr0, eax ; mov eax, 0x401 ; mov dr7, eax ; nop... ; CODE+0x10: nop */
        PROBE(p, 0xb8, 0x10, 0x10, 0x00, 0x00, 0x0f, 0x23, 0xc0, 0xb8, 0x01, 0x04, 0x00, 0x00, 0x0f, 0x23, 0xf8,
              0x90, 0x90, 0x90);
        printf("instruction breakpoint:    err=%d  exception %d  EIP=0x%x  DR6=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP), reg(uc, UC_X86_REG_DR6));
        uc_close(uc);
    }
    if (argc > 1 && !strcmp(argv[1], "dbp")) {   /* data breakpoint on DATA (write, 4 bytes): mov eax, DATA ; mov dr0, eax ; mov eax, 0xD0401 ; mov dr7, eax ;
         * mov [DATA], eax ; nop */
        PROBE(p, 0xb8, 0x00, 0x60, 0x00, 0x00, 0x0f, 0x23, 0xc0, 0xb8, 0x01, 0x04, 0x0d, 0x00, 0x0f, 0x23, 0xf8,
              0xa3, 0x00, 0x60, 0x00, 0x00, 0x90);
        printf("data breakpoint (write):   err=%d  exception %d  EIP=0x%x  DR6=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP), reg(uc, UC_X86_REG_DR6));
        uc_close(uc);
    }
    {   /* pushfd ; or dword [esp], 0x100 ; popfd ; nop ; nop */
        PROBE(p, 0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90);
        printf("single step (TF):          err=%d  exception %d  EIP=0x%x  DR6=0x%x (BS is bit 14)\n", err,
               last_intno, reg(uc, UC_X86_REG_EIP), reg(uc, UC_X86_REG_DR6));
        uc_close(uc);
    }
    {   /* pushfd ; or dword [esp], 0x10000 (RF) ; push 0x08 ; push CODE+0x13 ; iretd ; CODE+0x13: nop ; nop */
        static const uint8_t c[] = {0x9c, 0x81, 0x0c, 0x24, 0x00, 0x00, 0x01, 0x00, 0x6a, 0x08, 0x68,
                                    0x13, 0x10, 0x00, 0x00, 0xcf, 0x90, 0x90, 0x90, 0x90, 0x90};
        uc_engine *uc = machine(c, sizeof c);
        uc_err err = uc_emu_start(uc, CODE, CODE + 0x13, 0, 0);
        uint32_t f1 = reg(uc, UC_X86_REG_EFLAGS);
        uc_err err2 = uc_emu_start(uc, CODE + 0x13, CODE + 0x14, 0, 0);
        printf("RF after IRETD (RF=1):     err=%d/%d  EFLAGS at target 0x%x, after the next insn 0x%x\n", err, err2,
               f1, reg(uc, UC_X86_REG_EFLAGS));
        uc_close(uc);
    }
    {   /* CR0.AM, EFLAGS.AC, CPL 3: mov eax, cr0 ; or eax, 0x40000 ; mov cr0, eax ; to ring 3 with AC ;
         * ring 3: mov eax, [DATA + 1] ; nop */
        static const uint8_t c[] = {0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x04, 0x00, 0x0f, 0x22, 0xc0,
                                    TO_RING3(0x02, 0x00, 0x1f), 0xa1, 0x01, 0x60, 0x00, 0x00, 0x90};
        uc_engine *uc = machine(c, sizeof c);
        uc_err err = run(uc, sizeof c, 0);
        printf("#AC (AM, AC, CPL 3):       err=%d  exception %d  EIP=0x%x  CS=0x%x EFLAGS=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP), reg(uc, UC_X86_REG_CS), reg(uc, UC_X86_REG_EFLAGS));
        uc_close(uc);
    }
    {   /* CR4.UMIP (bit 11): mov eax, cr4 ; or eax, 0x800 ; mov cr4, eax ; to ring 3 ; smsw eax ; nop */
        static const uint8_t c[] = {0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x08, 0x00, 0x00, 0x0f, 0x22, 0xe0,
                                    TO_RING3(0x02, 0x00, 0x1f), 0x0f, 0x01, 0xe0, 0x90};
        uc_engine *uc = machine(c, sizeof c);
        uc_err err = run(uc, sizeof c, 0);
        printf("UMIP, SMSW at CPL 3:       err=%d  exception %d  EIP=0x%x  CR4=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP), reg(uc, UC_X86_REG_CR4));
        uc_close(uc);
    }
    {   /* CR4.TSD: mov eax, cr4 ; or eax, 4 ; mov cr4, eax ; to ring 3 ; rdtsc ; nop */
        static const uint8_t c[] = {0x0f, 0x20, 0xe0, 0x0d, 0x04, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0,
                                    TO_RING3(0x02, 0x00, 0x1f), 0x0f, 0x31, 0x90};
        uc_engine *uc = machine(c, sizeof c);
        uc_err err = run(uc, sizeof c, 0);
        printf("TSD, RDTSC at CPL 3:       err=%d  exception %d  EIP=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP));
        uc_close(uc);
    }
    {   /* IOPL 0, CPL 3, no I/O bitmap: to ring 3 ; out 0x80, al ; nop */
        static const uint8_t c[] = {TO_RING3(0x02, 0x00, 0x14), 0xe6, 0x80, 0x90};
        uc_engine *uc = machine(c, sizeof c);
        uc_err err = run(uc, sizeof c, 0);
        printf("OUT at CPL 3 > IOPL 0:     err=%d  exception %d  EIP=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP));
        uc_close(uc);
    }
    {   /* CR0.TS: mov eax, cr0 ; or eax, 8 ; mov cr0, eax ; fninit ; nop */
        PROBE(p, 0x0f, 0x20, 0xc0, 0x83, 0xc8, 0x08, 0x0f, 0x22, 0xc0, 0xdb, 0xe3, 0x90);
        printf("x87 with CR0.TS = 1:       err=%d  exception %d  EIP=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP));
        uc_close(uc);
    }
    {   /* segment limit: mov ax, 0x60 (limit 0xF) ; mov ds, ax ; mov eax, [0x20] ; nop */
        PROBE(p, 0x66, 0xb8, 0x60, 0x00, 0x8e, 0xd8, 0xa1, 0x20, 0x00, 0x00, 0x00, 0x90);
        printf("data access beyond DS limit: err=%d  exception %d  EIP=0x%x\n", err, last_intno,
               reg(uc, UC_X86_REG_EIP));
        uc_close(uc);
    }
    return 0;
}
