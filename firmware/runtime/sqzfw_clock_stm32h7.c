/*
 * STM32H743 clock set-up (RM0433): LDO supply, voltage scale (VOS0 through SYSCFG_PWRCR.ODEN on silicon revision V),
 * HSE, PLL1, flash wait states and programming delay, D1/D2/D3 prescalers, switch sys_ck to PLL1. Register fields
 * come from the SQZFW_CLK_* defines (src/boards/clock.ts). See sqzfw_clock.h for the fallback on a timeout.
 */
#include "sqzfw_clock.h"

#if defined(SQZFW_CLOCK_STM32H7)

#include "sqzfw_cm.h"

#define RCC_CR SQZFW_REG32(0x58024400u)       /* §8.7.2 */
#define RCC_CFGR SQZFW_REG32(0x58024410u)     /* §8.7.7 */
#define RCC_D1CFGR SQZFW_REG32(0x58024418u)   /* §8.7.8 */
#define RCC_D2CFGR SQZFW_REG32(0x5802441Cu)   /* §8.7.9 */
#define RCC_D3CFGR SQZFW_REG32(0x58024420u)   /* §8.7.10 */
#define RCC_PLLCKSELR SQZFW_REG32(0x58024428u) /* §8.7.11 */
#define RCC_PLLCFGR SQZFW_REG32(0x5802442Cu)  /* §8.7.12 */
#define RCC_PLL1DIVR SQZFW_REG32(0x58024430u) /* §8.7.13 */
#define RCC_APB4ENR SQZFW_REG32(0x580244F4u)  /* §8.7.42: SYSCFGEN bit 1 */
#define PWR_CSR1 SQZFW_REG32(0x58024804u)     /* §6.8.2: ACTVOSRDY bit 13 */
#define PWR_CR3 SQZFW_REG32(0x5802480Cu)      /* §6.8.4: BYPASS bit 0, LDOEN bit 1 */
#define PWR_D3CR SQZFW_REG32(0x58024818u)     /* §6.8.6: VOS [15:14], VOSRDY bit 13 */
#define SYSCFG_PWRCR SQZFW_REG32(0x58000404u) /* §12.3.8 SYSCFG_PWRCR: ODEN bit 0 (VOS0) */
#define FLASH_ACR SQZFW_REG32(0x52002000u)    /* §4.9.1: LATENCY [3:0], WRHIGHFREQ [5:4] */
#define DBGMCU_IDC SQZFW_REG32(0x5C001000u)   /* §61.5.8: REV_ID [31:16] (0x1003 Y, 0x2003 V) */

#define REV_V 0x2003u

enum { STEP_REVISION = 1, STEP_SUPPLY, STEP_VOS, STEP_VOS0, STEP_HSE, STEP_PLL, STEP_FLASH, STEP_SWITCH };

const char *sqzfw_clock_step_name(int32_t step)
{
    switch (step) {
    case 0: return "none";
    case STEP_REVISION: return "silicon revision check (VOS0 needs revision V, DBGMCU_IDC.REV_ID 0x2003)";
    case STEP_SUPPLY: return "LDO supply (PWR_CSR1.ACTVOSRDY)";
    case STEP_VOS: return "voltage scale (PWR_D3CR.VOSRDY)";
    case STEP_VOS0: return "VOS0 over-drive (SYSCFG_PWRCR.ODEN, PWR_D3CR.VOSRDY)";
    case STEP_HSE: return "HSE start (RCC_CR.HSERDY)";
    case STEP_PLL: return "PLL1 lock (RCC_CR.PLL1RDY)";
    case STEP_FLASH: return "flash wait states (FLASH_ACR.LATENCY)";
    case STEP_SWITCH: return "sys_ck switch to PLL1 (RCC_CFGR.SWS)";
    default: return "?";
    }
}

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
#if SQZFW_CLK_VOS == 0
    /* 480 MHz exists on revision V only (DS12110): stay at the HSI on revision Y. */
    if ((DBGMCU_IDC >> 16) != REV_V)
        return STEP_REVISION;
#endif
    /* Supply: LDO on, bypass off (§6.8.4; CR3 can be written once after reset), wait ACTVOSRDY. */
    PWR_CR3 = (PWR_CR3 & ~1u) | (1u << 1);
    if (!wait_bits(&PWR_CSR1, 1u << 13, 1u << 13))
        return STEP_SUPPLY;
    /* VOS1 first (D3CR.VOS = 11), then VOS0 by setting SYSCFG_PWRCR.ODEN (§6.6.2 "VOS0 activation"). */
    PWR_D3CR = (PWR_D3CR & ~(3u << 14)) | ((uint32_t)(SQZFW_CLK_VOS == 0 ? 3 : 4 - (SQZFW_CLK_VOS)) << 14);
    (void)PWR_D3CR;
    if (!wait_bits(&PWR_D3CR, 1u << 13, 1u << 13))
        return STEP_VOS;
#if SQZFW_CLK_VOS == 0
    RCC_APB4ENR |= 1u << 1;
    (void)RCC_APB4ENR;
    SYSCFG_PWRCR |= 1u;
    (void)SYSCFG_PWRCR;
    if (!wait_bits(&PWR_D3CR, 1u << 13, 1u << 13))
        return STEP_VOS0;
#endif
#if SQZFW_CLK_HSE
    RCC_CR |= (SQZFW_CLK_HSE_BYPASS ? (1u << 18) : 0u); /* HSEBYP */
    RCC_CR |= 1u << 16;                                  /* HSEON */
    if (!wait_bits(&RCC_CR, 1u << 17, 1u << 17)) {
        RCC_CR &= ~(1u << 16);
        return STEP_HSE;
    }
#endif
    /* PLL1: source (PLLSRC [1:0]: 00 HSI, 10 HSE), DIVM1 [9:4]; range PLL1RGE [3:2], VCOSEL bit 1, integer mode;
     * DIVP1EN/DIVQ1EN/DIVR1EN bits 16-18; DIVN1-1 [8:0], DIVP1-1 [15:9], DIVQ1-1 [22:16], DIVR1-1 [30:24]. */
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~((0x3Fu << 4) | 3u)) | ((uint32_t)(SQZFW_CLK_PLLM) << 4) | (SQZFW_CLK_HSE ? 2u : 0u);
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | ((uint32_t)(SQZFW_CLK_PLLRGE) << 2) | ((uint32_t)(SQZFW_CLK_PLLVCOSEL) << 1) |
                  (7u << 16);
    RCC_PLL1DIVR = (uint32_t)((SQZFW_CLK_PLLN) - 1) | ((uint32_t)((SQZFW_CLK_PLLP) - 1) << 9) |
                   ((uint32_t)((SQZFW_CLK_PLLQ) - 1) << 16) | ((uint32_t)((SQZFW_CLK_PLLR) - 1) << 24);
    RCC_CR |= 1u << 24; /* PLL1ON */
    if (!wait_bits(&RCC_CR, 1u << 25, 1u << 25))
        return STEP_PLL;
    /* Wait states and programming delay for the AXI clock (Table 17), read back before going faster. */
    FLASH_ACR = (FLASH_ACR & ~0x3Fu) | (uint32_t)(SQZFW_CLK_FLASH_WS) | ((uint32_t)(SQZFW_CLK_WRHIGHFREQ) << 4);
    if (!wait_bits(&FLASH_ACR, 0x3Fu, (uint32_t)(SQZFW_CLK_FLASH_WS) | ((uint32_t)(SQZFW_CLK_WRHIGHFREQ) << 4)))
        return STEP_FLASH;
    /* Prescalers: D1CPRE [11:8], D1PPRE [6:4], HPRE [3:0]; D2PPRE2 [10:8], D2PPRE1 [6:4]; D3PPRE [6:4]. */
    RCC_D1CFGR = ((uint32_t)(SQZFW_CLK_D1CPRE) << 8) | ((uint32_t)(SQZFW_CLK_D1PPRE) << 4) | (uint32_t)(SQZFW_CLK_HPRE);
    RCC_D2CFGR = ((uint32_t)(SQZFW_CLK_D2PPRE2) << 8) | ((uint32_t)(SQZFW_CLK_D2PPRE1) << 4);
    RCC_D3CFGR = (uint32_t)(SQZFW_CLK_D3PPRE) << 4;
    /* SW [2:0] = 011 (PLL1), wait SWS [5:3] = 011. */
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u;
    if (!wait_bits(&RCC_CFGR, 7u << 3, 3u << 3)) {
        RCC_CFGR &= ~7u; /* back to HSI */
        RCC_D1CFGR = 0u;
        RCC_D2CFGR = 0u;
        RCC_D3CFGR = 0u;
        return STEP_SWITCH;
    }
    return 0;
}

#else
typedef int sqzfw_clock_stm32h7_unused; /* ISO C wants a non-empty translation unit */
#endif
