/* sqzfw firmware runtime: see sqzfw_rt.h. */
#include "sqzfw_rt.h"

#include "sqzfw_clock.h"
#include "sqzfw_cm.h"
#include "sqzfw_uart.h"

#define SQZFW_STR2(x) #x
#define SQZFW_STR(x) SQZFW_STR2(x)

/* SysTick: 24-bit down counter on the core clock, reload 0xFFFFFF; each 1->0 transition raises the interrupt,
 * which counts the wraps. (SQZFW_SYSTICK_RELOAD is a test hook: a small reload wraps often.) */
#ifdef SQZFW_SYSTICK_RELOAD
#define SYSTICK_RELOAD ((uint32_t)(SQZFW_SYSTICK_RELOAD))
#else
#define SYSTICK_RELOAD 0xFFFFFFu
#endif
#define SYSTICK_PERIOD ((uint64_t)SYSTICK_RELOAD + 1u)

static volatile uint32_t s_systick_wraps;
static uint64_t s_last_ticks;

/* DWT cycle counter: 32 bits, extended by sampling it at every SysTick interrupt (every 2^24 core cycles at most,
 * far less than its 2^32 wrap). */
static volatile uint32_t s_cyc_high;
static volatile uint32_t s_cyc_last;
static int s_cyc_counting;

static void cycles_sample(void)
{
    uint32_t now = DWT_CYCCNT;
    if (now < s_cyc_last)
        s_cyc_high++;
    s_cyc_last = now;
}

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    s_systick_wraps++;
    if (s_cyc_counting)
        cycles_sample();
}

/* Start the cycle counter and check that it runs: it reads 0 on QEMU, and on cores built without one. */
static void cycles_init(void)
{
    s_cyc_counting = 0;
    s_cyc_high = 0u;
    s_cyc_last = 0u;
#if SQZFW_CM_MAINLINE
    {
        volatile uint32_t spin;
        uint32_t c0, c1;
        DCB_DEMCR |= DCB_DEMCR_TRCENA;
        sqzfw_cm_dsb();
#if defined(__ARM_ARCH_7EM__)
        DWT_LAR = DWT_LAR_KEY; /* Cortex-M7 locks the DWT against software writes until this key is written; M4 ignores it */
#endif
        if ((DWT_CTRL & DWT_CTRL_NOCYCCNT) != 0u)
            return;
        DWT_CYCCNT = 0u;
        DWT_CTRL |= DWT_CTRL_CYCCNTENA;
        sqzfw_cm_isb();
        c0 = DWT_CYCCNT;
        for (spin = 0u; spin < 64u; spin++) {
        }
        c1 = DWT_CYCCNT;
        s_cyc_counting = c1 != c0;
        s_cyc_last = c1;
    }
#endif
}

void sqzfw_rt_init(void)
{
    uint32_t n;

    sqzfw_uart_init();
    if (sqzfw_clock_failed_step() != 0) {
        sqzfw_rt_puts("sqzfw clock: ");
        sqzfw_rt_puts(sqzfw_clock_step_name(sqzfw_clock_failed_step()));
        sqzfw_rt_puts(" timed out: running at the reset clock ");
        sqzfw_rt_put_u32(sqzfw_clock_cpu_hz());
        sqzfw_rt_puts(" Hz\n");
    }
    cycles_init();

    SYST_CSR = 0u;
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0u; /* any write clears the counter; it loads RVR on the next clock */
    SCB_SHPR3 &= 0x00FFFFFFu; /* SysTick at the highest configurable priority */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;
    /* Wait for that first load (one clock on silicon; QEMU may take a while), so that ticks count from here. */
    for (n = 0; n < 1000000u && SYST_CVR == 0u; n++) {
    }
    (void)SYST_CSR;                   /* reading clears COUNTFLAG */
    SCB_ICSR = SCB_ICSR_PENDSTCLR;    /* the load is not a wrap */
    s_systick_wraps = 0u;
    s_last_ticks = 0u;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint64_t sqzfw_rt_ticks(void)
{
    uint32_t primask = sqzfw_cm_primask();
    uint32_t wraps, val;
    uint64_t t;

    sqzfw_cm_irq_disable();
    wraps = s_systick_wraps;
    val = SYST_CVR;
    if (SCB_ICSR & SCB_ICSR_PENDSTSET) {
        /* The counter reached 0 but the interrupt has not run yet: count that wrap here and re-read, so the
         * value is after the wrap. */
        wraps++;
        val = SYST_CVR;
    }
    /* `wraps` counts the 1->0 transitions seen. While the counter sits at 0 right after one, the elapsed time is
     * one tick before the reload. */
    if (val == 0u)
        t = wraps == 0u ? 0u : (uint64_t)wraps * SYSTICK_PERIOD - 1u;
    else
        t = (uint64_t)wraps * SYSTICK_PERIOD + (uint64_t)(SYSTICK_RELOAD - val);
    /* Real hardware sets the pending bit as the counter reloads. QEMU without -icount may show the reloaded counter
     * before the pending bit: that wrap is then missing, and the value goes back by one period. Count it. */
    if (t < s_last_ticks)
        t += SYSTICK_PERIOD;
    s_last_ticks = t;
    sqzfw_cm_set_primask(primask);
    return t;
}

uint64_t sqzfw_rt_cycles(void)
{
    uint32_t primask = sqzfw_cm_primask();
    uint64_t c;

    if (!s_cyc_counting)
        return 0u;
    sqzfw_cm_irq_disable();
    cycles_sample();
    c = ((uint64_t)s_cyc_high << 32) | s_cyc_last;
    sqzfw_cm_set_primask(primask);
    return c;
}

int sqzfw_rt_cycles_counting(void) { return s_cyc_counting; }

static void put_u64(uint64_t v)
{
    char buf[20];
    unsigned n = 0;
    do {
        buf[n++] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0u)
        sqzfw_uart_putc(buf[--n]);
}

void sqzfw_rt_report_cycles(uint64_t c0, uint64_t c1)
{
    if (s_cyc_counting) {
        sqzfw_rt_puts("cycles ");
        put_u64(c1 - c0);
        sqzfw_rt_puts("\n");
    } else {
        sqzfw_rt_puts("cycles unavailable: the DWT cycle counter does not count here (emulator or no DWT)\n");
    }
}

const char *sqzfw_rt_tick_unit(void)
{
    return "core clock ticks (SysTick at " SQZFW_STR(SQZFW_CPU_HZ) " Hz)";
}

void sqzfw_rt_putc(char c) { sqzfw_uart_putc(c); }

void sqzfw_rt_puts(const char *s)
{
    while (*s)
        sqzfw_uart_putc(*s++);
}

void sqzfw_rt_put_u32(uint32_t v)
{
    char buf[10];
    unsigned n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0u)
        sqzfw_uart_putc(buf[--n]);
}

void sqzfw_rt_put_i32(int32_t v)
{
    if (v < 0) {
        sqzfw_uart_putc('-');
        sqzfw_rt_put_u32(0u - (uint32_t)v); /* also right for INT32_MIN */
    } else {
        sqzfw_rt_put_u32((uint32_t)v);
    }
}

void sqzfw_rt_put_hex(const void *p, uint32_t n)
{
    static const char digits[16] = { '0', '1', '2', '3', '4', '5', '6', '7',
                                     '8', '9', 'a', 'b', 'c', 'd', 'e', 'f' };
    const uint8_t *b = (const uint8_t *)p;
    uint32_t i;
    for (i = 0; i < n; i++) {
        sqzfw_uart_putc(digits[b[i] >> 4]);
        sqzfw_uart_putc(digits[b[i] & 15u]);
    }
}

#if defined(SQZFW_SEMIHOSTING)
#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static void semihosting_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}
#endif

void sqzfw_rt_exit(int code)
{
    sqzfw_uart_flush();
#if defined(SQZFW_SEMIHOSTING)
    {
        uint32_t block[2];
        block[0] = ADP_STOPPED_APPLICATION_EXIT;
        block[1] = (uint32_t)code;
        semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
    }
#else
    (void)code;
#endif
    /* No semihosting (or the host ignored the call): stop the tick interrupt and sleep forever. */
    SYST_CSR = 0u;
    sqzfw_cm_irq_disable();
    for (;;)
        sqzfw_cm_wfi();
}
