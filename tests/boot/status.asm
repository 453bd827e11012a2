; Kernels that end a boot with each documented status (tests/test_boot.c):
; -DV_UNKNOWN_PORT, -DV_OPEN_BUS (exit 7 when an unclaimed port reads all ones),
; -DV_MMIO, -DV_TRIPLE, -DV_BUDGET, -DV_HANG, -DV_EXIT (code 7),
; -DV_REMAP (32-bit paging with 4-MiB pages mapping linear 0xC0000000 to physical
; 0x400000: exit 7 when a store through it is seen at the physical address, the
; Unicorn 2.1 outcome; on Unicorn 2.0.1 the run ends with the engine-limit status).
; -DV_PG11 (PG-11 in root operation: 32-bit paging with 4-KiB identity pages; a
; data read of page_p, then its PTE made not present without INVLPG, then a jump
; there: the fetch faults, exit 14 from the #PF handler; exit 6 from the #UD
; handler was the model taking the bytes the engine could not read for an
; invalid instruction).
%include "elf.inc"
start:
        mov esi, hello
        PUTS_BODY
%ifdef V_UNKNOWN_PORT
        mov al, 1
        out 0x99, al            ; no device claims port 0x99
%elifdef V_OPEN_BUS
        mov al, 1
        out 0x99, al            ; with --open-bus dropped (PLAT-PORT-1), else status 102
        mov dx, 0x99
        in al, dx
        cmp al, 0xFF            ; all ones, at each access size
        jne .ob_bad
        in ax, dx
        cmp ax, 0xFFFF
        jne .ob_bad
        in eax, dx
        cmp eax, 0xFFFFFFFF
        jne .ob_bad
        EXIT 7
.ob_bad:
        EXIT 1
%elifdef V_MMIO
        mov eax, [0xFEC00000]   ; the I/O APIC is not modelled
%elifdef V_TRIPLE
        lidt [null_idt]         ; an empty IDT: #UD -> #GP -> #DF -> triple fault
        ud2
%elifdef V_BUDGET
.spin:  jmp .spin
%elifdef V_HANG
        cli
        hlt
%elifdef V_REMAP
        mov dword [pd + 0], 0x00000083          ; 0-4 MiB identity (P, RW, PS)
        mov dword [pd + 4], 0x00400083          ; 4-8 MiB identity
        mov eax, pd
        mov cr3, eax
        mov eax, cr4
        or eax, 0x10                            ; PSE
        mov cr4, eax
        mov eax, cr0
        or eax, 0x80000000                      ; PG
        mov cr0, eax
        ; The non-identity entry is written with paging on, by a plain store.
        mov dword [pd + 0xC00], 0x00400083      ; 0xC0000000 -> physical 0x400000
        mov dword [0xC0000010], 0x5A5A1234      ; through the non-identity mapping
        cmp dword [0x00400010], 0x5A5A1234
        jne .bad
        EXIT 7
.bad:
%elifdef V_PG11
        lgdt [gdt_ptr]
        jmp 0x10:.cs                            ; CS from this GDT
.cs:    mov ax, 0x18
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, stack_top
        IDT_GATE32 idt32, 6, ud_handler, 0x10
        IDT_GATE32 idt32, 14, pf_handler, 0x10
        lidt [idt32_ptr]
        xor ecx, ecx                            ; 0-4 MiB identity, 4-KiB pages
.pt:    mov eax, ecx
        shl eax, 12
        or eax, 3
        mov [pt + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .pt
        mov dword [pd], pt + 3
        mov eax, pd
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000                      ; PG
        mov cr0, eax
        mov al, [page_p]                        ; Unicorn's TLB caches page_p for a read
        mov eax, page_p
        shr eax, 12
        and dword [pt + eax * 4], ~1            ; page_p not present
        jmp page_p                              ; no INVLPG: the fetch may use the cached translation
ud_handler:
        EXIT 6
pf_handler:
        EXIT 14
%else
        EXIT 7
%endif
        EXIT 1
null_idt: dw 0
        dd 0
hello:  db "status kernel", 13, 10, 0
%ifdef V_PG11
gdt:    dq 0, 0
        dq 0x00CF9A000000FFFF                   ; 0x10: 32-bit code
        dq 0x00CF92000000FFFF                   ; 0x18: data
gdt_ptr: dw 4 * 8 - 1
        dd gdt
idt32_ptr: dw 256 * 8 - 1
        dd idt32
        align 4096
page_p: nop
        hlt
        align 4096
idt32:  times 256 dq 0
%endif
file_end:
        align 4096
pd:     resb 4096                               ; BSS: the page directory
%ifdef V_PG11
pt:     resb 4096                               ; and V_PG11's page table
        resb 4096                               ; and stack
stack_top:
%endif
mem_end:
