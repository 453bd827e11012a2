; The guest of examples/iw_classic.c: a 64-bit kernel fragment that runs with
; interrupts disabled, re-enables them with STI, and has a handler for vector 0x30.
bits 64
org 0x10000

start:
    cli                     ; the guest works with IF = 0 ...
    mov ecx, 20
busy:
    dec ecx                 ; ... while an external interrupt arrives
    jnz busy
    sti                     ; IF = 1, and blocking by STI for one instruction
    nop                     ; the instruction in the STI shadow
after_shadow:
    mov eax, 1              ; the interrupt-window exit comes before this one
    hlt                     ; the end of the lesson (HLT exiting)

times 0x20 - ($ - $$) nop  ; the handler at 0x10020 (iw_classic.c relies on it)
handler:                    ; vector 0x30
    mov ebx, 0xcafe
    out 0x80, al            ; tell the VMM the handler ran (an I/O exit)
    iretq
