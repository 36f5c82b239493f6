/* Cortex-M core registers and instructions used by the sqzfw runtime (internal; no CMSIS-Core needed). */
#ifndef SQZFW_CM_H
#define SQZFW_CM_H

#include <stdint.h>

#define SQZFW_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick */
#define SYST_CSR SQZFW_REG32(0xE000E010u)
#define SYST_RVR SQZFW_REG32(0xE000E014u)
#define SYST_CVR SQZFW_REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1: core clock */

/* System control block */
#define SCB_ICSR SQZFW_REG32(0xE000ED04u)
#define SCB_VTOR SQZFW_REG32(0xE000ED08u)
#define SCB_CCR SQZFW_REG32(0xE000ED14u)
#define SCB_SHPR3 SQZFW_REG32(0xE000ED20u)
#define SCB_SHCSR SQZFW_REG32(0xE000ED24u)
#define SCB_CFSR SQZFW_REG32(0xE000ED28u)
#define SCB_HFSR SQZFW_REG32(0xE000ED2Cu)
#define SCB_MMFAR SQZFW_REG32(0xE000ED34u)
#define SCB_BFAR SQZFW_REG32(0xE000ED38u)
#define SCB_CPACR SQZFW_REG32(0xE000ED88u)
#define SCB_ICSR_PENDSTSET (1u << 26)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_CCR_DC (1u << 16)
#define SCB_CCR_IC (1u << 17)

/* Cache identification and maintenance (Armv7-M with caches: Cortex-M7) */
#define SCB_CCSIDR SQZFW_REG32(0xE000ED80u)
#define SCB_CSSELR SQZFW_REG32(0xE000ED84u)
#define SCB_ICIALLU SQZFW_REG32(0xE000EF50u)
#define SCB_DCISW SQZFW_REG32(0xE000EF60u)

/* Debug: DEMCR.TRCENA powers the DWT; DWT_CTRL.CYCCNTENA starts the cycle counter (absent when NOCYCCNT). */
#define DCB_DEMCR SQZFW_REG32(0xE000EDFCu)
#define DCB_DEMCR_TRCENA (1u << 24)
#define DWT_CTRL SQZFW_REG32(0xE0001000u)
#define DWT_CYCCNT SQZFW_REG32(0xE0001004u)
#define DWT_LAR SQZFW_REG32(0xE0001FB0u) /* Cortex-M7: software lock of the DWT */
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define DWT_LAR_KEY 0xC5ACCE55u

/* Armv7-M / Armv8-M Mainline: VTOR, configurable faults, CFSR (absent on v6-M / v8-M Baseline). */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define SQZFW_CM_MAINLINE 1
#else
#define SQZFW_CM_MAINLINE 0
#endif

static inline uint32_t sqzfw_cm_primask(void)
{
    uint32_t r;
    __asm__ volatile("mrs %0, primask" : "=r"(r));
    return r;
}
static inline void sqzfw_cm_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void sqzfw_cm_set_primask(uint32_t v) { __asm__ volatile("msr primask, %0" ::"r"(v) : "memory"); }
static inline uint32_t sqzfw_cm_ipsr(void)
{
    uint32_t r;
    __asm__ volatile("mrs %0, ipsr" : "=r"(r));
    return r;
}
static inline void sqzfw_cm_dsb(void) { __asm__ volatile("dsb 0xF" ::: "memory"); }
static inline void sqzfw_cm_isb(void) { __asm__ volatile("isb 0xF" ::: "memory"); }
static inline void sqzfw_cm_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif /* SQZFW_CM_H */
