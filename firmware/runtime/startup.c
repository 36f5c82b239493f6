/*
 * sqzfw startup for Cortex-M: vector table (.isr_vector), Reset_Handler, fault reporting.
 *
 * Reset_Handler: enable the FPU (hard/softfp builds), point VTOR at the table, enable the configurable faults, set
 * the board's clock tree up (sqzfw_clock_setup, bounded waits, falls back to the reset clock), run the board's init steps (sqzfw_board_init from the generated src/sqzfw_board.c: clock gates, pins, external flash),
 * enable the Cortex-M7 caches (SQZFW_CM7_CACHES), copy initialized sections and zero .bss (tables from linker.ld),
 * call main(), then sqzfw_rt_exit(main's value).
 * Any fault or unexpected exception prints one line on the UART
 *     sqzfw: fault <name> pc=0x... lr=0x... cfsr=0x... hfsr=0x...
 * and exits with code 0x40 | exception number (HardFault 67, MemManage 68, BusFault 69, UsageFault 70).
 */
#include <stdint.h>

#include "sqzfw_clock.h"
#include "sqzfw_cm.h"
#include "sqzfw_rt.h"
#include "sqzfw_uart.h"

#ifndef SQZFW_IRQ_COUNT
#define SQZFW_IRQ_COUNT 32
#endif

/* From linker.ld */
extern uint32_t __StackTop;
extern uint32_t __sqzfw_stack_limit;
extern uint32_t __sqzfw_ram_start;
extern const uint32_t __sqzfw_copy_table_start[]; /* {load address, run address, bytes} triples */
extern const uint32_t __sqzfw_copy_table_end[];
extern const uint32_t __sqzfw_zero_table_start[]; /* {address, bytes} pairs */
extern const uint32_t __sqzfw_zero_table_end[];

extern int main(void);
/* Generated per board (src/sqzfw_board.c) when it has init steps; weak: boards without steps have no such file.
 * It runs before .data and .bss are set up, so it must not use static variables. */
extern void sqzfw_board_init(void) __attribute__((weak));

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);
void sqzfw_fault_report(const uint32_t *frame) __attribute__((noreturn));

#define SQZFW_WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
SQZFW_WEAK_HANDLER(NMI_Handler);
SQZFW_WEAK_HANDLER(HardFault_Handler);
SQZFW_WEAK_HANDLER(MemManage_Handler);
SQZFW_WEAK_HANDLER(BusFault_Handler);
SQZFW_WEAK_HANDLER(UsageFault_Handler);
SQZFW_WEAK_HANDLER(SecureFault_Handler);
SQZFW_WEAK_HANDLER(SVC_Handler);
SQZFW_WEAK_HANDLER(DebugMon_Handler);
SQZFW_WEAK_HANDLER(PendSV_Handler);
SQZFW_WEAK_HANDLER(SysTick_Handler);

typedef union {
    void (*handler)(void);
    const void *stack_top;
} sqzfw_vector_t;

__attribute__((section(".isr_vector"), used)) const sqzfw_vector_t sqzfw_vector_table[16 + SQZFW_IRQ_COUNT] = {
    [0] = { .stack_top = &__StackTop },
    [1] = { .handler = Reset_Handler },
    [2] = { .handler = NMI_Handler },
    [3] = { .handler = HardFault_Handler },
    [4] = { .handler = MemManage_Handler },
    [5] = { .handler = BusFault_Handler },
    [6] = { .handler = UsageFault_Handler },
    [7] = { .handler = SecureFault_Handler },
    [11] = { .handler = SVC_Handler },
    [12] = { .handler = DebugMon_Handler },
    [14] = { .handler = PendSV_Handler },
    [15] = { .handler = SysTick_Handler },
#if SQZFW_IRQ_COUNT > 0
    [16 ... 16 + SQZFW_IRQ_COUNT - 1] = { .handler = Default_Handler },
#endif
};

#if defined(SQZFW_CM7_CACHES) && SQZFW_CM_MAINLINE
/* Invalidate, then enable the L1 instruction and data caches (Cortex-M7: 32-byte lines, the data cache
 * invalidated by set and way). No DMA touches the firmware's memory, so the write-back data cache needs no
 * maintenance afterwards. */
static void caches_enable(void)
{
    uint32_t ccsidr, sets, ways, line_shift, way_shift, s, w;

    sqzfw_cm_dsb();
    sqzfw_cm_isb();
    SCB_ICIALLU = 0u;
    sqzfw_cm_dsb();
    sqzfw_cm_isb();
    SCB_CCR |= SCB_CCR_IC;
    sqzfw_cm_dsb();
    sqzfw_cm_isb();

    SCB_CSSELR = 0u; /* level 1 data cache */
    sqzfw_cm_dsb();
    ccsidr = SCB_CCSIDR;
    sets = ((ccsidr >> 13) & 0x7FFFu) + 1u;
    ways = ((ccsidr >> 3) & 0x3FFu) + 1u;
    line_shift = (ccsidr & 7u) + 4u;
    way_shift = 32u;
    for (w = ways - 1u; w != 0u; w >>= 1)
        way_shift--;
    for (s = 0u; s < sets; s++)
        for (w = 0u; w < ways; w++)
            SCB_DCISW = (s << line_shift) | (way_shift < 32u ? w << way_shift : 0u);
    sqzfw_cm_dsb();
    SCB_CCR |= SCB_CCR_DC;
    sqzfw_cm_dsb();
    sqzfw_cm_isb();
}
#endif

void Reset_Handler(void)
{
    const uint32_t *t;
    int32_t clock_failed;

#if defined(__ARM_FP)
    /* CP10 and CP11 full access, before any floating-point instruction runs. */
    SCB_CPACR |= (0xFu << 20);
    sqzfw_cm_dsb();
    sqzfw_cm_isb();
#endif
#if SQZFW_CM_MAINLINE
    SCB_VTOR = (uint32_t)(uintptr_t)sqzfw_vector_table;
    /* Report MemManage, BusFault and UsageFault by name instead of escalating to HardFault; trap x/0. */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);
    SCB_CCR |= (1u << 4);
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* Armv8-M: a stack overflow becomes a UsageFault (STKOF) instead of silent corruption. */
    __asm__ volatile("msr msplim, %0" ::"r"(&__sqzfw_stack_limit));
#endif

    /* Clock first: the board's steps (e.g. the QSPI prescaler) assume the configured bus clocks. */
    clock_failed = sqzfw_clock_setup();
    if (sqzfw_board_init)
        sqzfw_board_init();
#if defined(SQZFW_CM7_CACHES) && SQZFW_CM_MAINLINE
    caches_enable();
#endif

    for (t = __sqzfw_copy_table_start; t < __sqzfw_copy_table_end; t += 3) {
        const uint32_t *src = (const uint32_t *)(uintptr_t)t[0];
        uint32_t *dst = (uint32_t *)(uintptr_t)t[1];
        uint32_t words = t[2] / 4u;
        while (words--)
            *dst++ = *src++;
    }
    for (t = __sqzfw_zero_table_start; t < __sqzfw_zero_table_end; t += 2) {
        uint32_t *dst = (uint32_t *)(uintptr_t)t[0];
        uint32_t words = t[1] / 4u;
        while (words--)
            *dst++ = 0u;
    }

    sqzfw_clock_record(clock_failed);
    sqzfw_rt_exit(main());
}

/*
 * Every unhandled exception lands here. Pass the stacked exception frame (MSP or PSP, from EXC_RETURN bit 2) to
 * sqzfw_fault_report. Armv6-M compatible instructions only.
 */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile(
        "mov r0, lr\n"
        "movs r1, #4\n"
        "tst r0, r1\n"
        "bne 1f\n"
        "mrs r0, msp\n"
        "b 2f\n"
        "1:\n"
        "mrs r0, psp\n"
        "2:\n"
        "ldr r1, =sqzfw_fault_report\n"
        "bx r1\n"
        ".ltorg\n");
}

static const char *exception_name(uint32_t n)
{
    switch (n) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVC";
    case 12: return "DebugMon";
    case 14: return "PendSV";
    case 15: return "SysTick";
    default: return 0;
    }
}

static void put_hex32(const char *label, uint32_t v)
{
    uint8_t be[4];
    be[0] = (uint8_t)(v >> 24);
    be[1] = (uint8_t)(v >> 16);
    be[2] = (uint8_t)(v >> 8);
    be[3] = (uint8_t)v;
    sqzfw_rt_puts(label);
    sqzfw_rt_puts("0x");
    sqzfw_rt_put_hex(be, 4);
}

void sqzfw_fault_report(const uint32_t *frame)
{
    uint32_t exc = sqzfw_cm_ipsr() & 0x1FFu;
    const char *name = exception_name(exc);
    uintptr_t f = (uintptr_t)frame;

    sqzfw_uart_init();
    sqzfw_rt_puts("\nsqzfw: fault ");
    if (name) {
        sqzfw_rt_puts(name);
    } else if (exc >= 16u) {
        sqzfw_rt_puts("IRQ");
        sqzfw_rt_put_u32(exc - 16u);
    } else {
        sqzfw_rt_puts("exception");
        sqzfw_rt_put_u32(exc);
    }
    /* Only read the frame if it lies in the stack's RAM region (a stack overflow may have left SP elsewhere). */
    if ((f & 3u) == 0u && f >= (uintptr_t)&__sqzfw_ram_start && f + 32u <= (uintptr_t)&__StackTop) {
        put_hex32(" pc=", frame[6]);
        put_hex32(" lr=", frame[5]);
    } else {
        put_hex32(" sp=", (uint32_t)f);
    }
#if SQZFW_CM_MAINLINE
    put_hex32(" cfsr=", SCB_CFSR);
    put_hex32(" hfsr=", SCB_HFSR);
    if (SCB_CFSR & (1u << 7))
        put_hex32(" mmfar=", SCB_MMFAR);
    if (SCB_CFSR & (1u << 15))
        put_hex32(" bfar=", SCB_BFAR);
#endif
    sqzfw_rt_putc('\n');
    sqzfw_rt_exit((int)(0x40u | (exc & 0x3Fu)));
}
