/*
 * STM32F4 (RM0090) and STM32F7 (RM0385) clock set-up: HSE, main PLL, voltage scale + over-drive, flash wait states,
 * AHB/APB prescalers, switch SYSCLK to the PLL. The two families share the RCC, PWR and FLASH_ACR layout used here;
 * only FLASH_ACR's cache bits differ (F4 ICEN/DCEN, F7 ART accelerator). Register fields come from the SQZFW_CLK_*
 * defines (src/boards/clock.ts). See sqzfw_clock.h for the fallback on a timeout.
 */
#include "sqzfw_clock.h"

#if defined(SQZFW_CLOCK_STM32F4F7)

#include "sqzfw_cm.h"

#define RCC_CR SQZFW_REG32(0x40023800u)       /* RM0090 §6.3.1, RM0385 §5.3.1 */
#define RCC_PLLCFGR SQZFW_REG32(0x40023804u)  /* §6.3.2 / §5.3.2 */
#define RCC_CFGR SQZFW_REG32(0x40023808u)     /* §6.3.3 / §5.3.3 */
#define RCC_APB1ENR SQZFW_REG32(0x40023840u)  /* §6.3.13 / §5.3.13: PWREN bit 28 */
#define PWR_CR SQZFW_REG32(0x40007000u)       /* RM0090 §5.4.1 PWR_CR, RM0385 §4.4.1 PWR_CR1 */
#define PWR_CSR SQZFW_REG32(0x40007004u)      /* §5.4.2 PWR_CSR / §4.4.2 PWR_CSR1 */
#define FLASH_ACR SQZFW_REG32(0x40023C00u)    /* RM0090 §3.9.1, RM0385 §3.7.1 */

#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)
#if defined(SQZFW_CLK_F7)
#define FLASH_ACR_CACHES ((1u << 8) | (1u << 9)) /* PRFTEN, ARTEN */
#else
#define FLASH_ACR_CACHES ((1u << 8) | (1u << 9) | (1u << 10)) /* PRFTEN, ICEN, DCEN */
#endif

enum { STEP_HSE = 1, STEP_PLL, STEP_OVERDRIVE, STEP_OVERDRIVE_SWITCH, STEP_FLASH, STEP_SWITCH };

const char *sqzfw_clock_step_name(int32_t step)
{
    switch (step) {
    case 0: return "none";
    case STEP_HSE: return "HSE start (RCC_CR.HSERDY)";
    case STEP_PLL: return "PLL lock (RCC_CR.PLLRDY)";
    case STEP_OVERDRIVE: return "over-drive (PWR_CSR.ODRDY)";
    case STEP_OVERDRIVE_SWITCH: return "over-drive switch (PWR_CSR.ODSWRDY)";
    case STEP_FLASH: return "flash wait states (FLASH_ACR.LATENCY)";
    case STEP_SWITCH: return "SYSCLK switch to the PLL (RCC_CFGR.SWS)";
    default: return "?";
    }
}

/* Poll until (reg & mask) == value, at most SQZFW_CLOCK_WAIT_LIMIT reads. */
static int wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    uint32_t n;
    for (n = 0u; n < SQZFW_CLOCK_WAIT_LIMIT; n++)
        if ((*reg & mask) == value)
            return 1;
    return 0;
}

int32_t sqzfw_clock_setup(void)
{
    /* Power interface clock, then the voltage scale (takes effect once the PLL runs: §5.1.4 / §4.1.4). */
    RCC_APB1ENR |= 1u << 28;
    (void)RCC_APB1ENR;
    PWR_CR = (PWR_CR & ~(3u << 14)) | ((uint32_t)(4 - (SQZFW_CLK_VOS)) << 14); /* VOS: 11 scale 1, 10 scale 2, 01 scale 3 */

#if SQZFW_CLK_HSE
    RCC_CR |= (SQZFW_CLK_HSE_BYPASS ? RCC_CR_HSEBYP : 0u);
    RCC_CR |= RCC_CR_HSEON;
    if (!wait_bits(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY)) {
        RCC_CR &= ~RCC_CR_HSEON;
        return STEP_HSE;
    }
#endif
    /* PLLCFGR: PLLM [5:0], PLLN [14:6], PLLP [17:16] = P/2 - 1, PLLSRC bit 22 (1: HSE), PLLQ [27:24]; bits 31:28 kept. */
    RCC_PLLCFGR = (RCC_PLLCFGR & 0xF0000000u) | (uint32_t)(SQZFW_CLK_PLLM) | ((uint32_t)(SQZFW_CLK_PLLN) << 6) |
                  ((uint32_t)((SQZFW_CLK_PLLP) / 2 - 1) << 16) | ((uint32_t)(SQZFW_CLK_HSE) << 22) |
                  ((uint32_t)(SQZFW_CLK_PLLQ) << 24);
    RCC_CR |= RCC_CR_PLLON;
    if (!wait_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY))
        return STEP_PLL;
#if SQZFW_CLK_OVERDRIVE
    /* Over-drive: ODEN, wait ODRDY, ODSWEN, wait ODSWRDY (RM0090 §5.1.4, RM0385 §4.1.4), with the PLL on. */
    PWR_CR |= PWR_CR_ODEN;
    if (!wait_bits(&PWR_CSR, PWR_CSR_ODRDY, PWR_CSR_ODRDY))
        return STEP_OVERDRIVE;
    PWR_CR |= PWR_CR_ODSWEN;
    if (!wait_bits(&PWR_CSR, PWR_CSR_ODSWRDY, PWR_CSR_ODSWRDY))
        return STEP_OVERDRIVE_SWITCH;
#endif
    /* Wait states before the clock goes up (RM0090 Table 11, RM0385 Table 5), read back as the manuals ask. */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | (uint32_t)(SQZFW_CLK_FLASH_WS) | FLASH_ACR_CACHES;
    if (!wait_bits(&FLASH_ACR, 0xFu, (uint32_t)(SQZFW_CLK_FLASH_WS)))
        return STEP_FLASH;
    /* Prescalers first (HPRE [7:4], PPRE1 [12:10], PPRE2 [15:13]), then SW [1:0] = 10 (PLL), wait SWS [3:2] = 10. */
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | ((uint32_t)(SQZFW_CLK_HPRE) << 4) | ((uint32_t)(SQZFW_CLK_PPRE1) << 10) |
               ((uint32_t)(SQZFW_CLK_PPRE2) << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    if (!wait_bits(&RCC_CFGR, 0xCu, 0x8u)) {
        RCC_CFGR &= ~(3u | 0xFCF0u); /* back to HSI, prescalers 1 */
        return STEP_SWITCH;
    }
    return 0;
}

#else
typedef int sqzfw_clock_stm32f4f7_unused; /* ISO C wants a non-empty translation unit */
#endif
