/*
 * nRF52840 clock set-up (Product Specification v1.7 §5.4 CLOCK): the CPU runs at 64 MHz from reset (HFINT); start
 * the 32 MHz crystal (HFXO) so that the UART's baud rate is accurate. A crystal that does not start leaves HFINT (the
 * CPU speed is the same; the baud rate is off by up to HFINT's tolerance) and the firmware says so.
 */
#include "sqzfw_clock.h"

#if defined(SQZFW_CLOCK_NRF52)

#include "sqzfw_cm.h"

#define CLOCK_TASKS_HFCLKSTART SQZFW_REG32(0x40000000u)
#define CLOCK_EVENTS_HFCLKSTARTED SQZFW_REG32(0x40000100u)
#define CLOCK_HFCLKSTAT SQZFW_REG32(0x4000040Cu) /* SRC bit 0 (1: Xtal), STATE bit 16 */

enum { STEP_HFXO = 1 };

const char *sqzfw_clock_step_name(int32_t step)
{
    return step == 0 ? "none" : step == STEP_HFXO ? "HFXO start (CLOCK EVENTS_HFCLKSTARTED)" : "?";
}

int32_t sqzfw_clock_setup(void)
{
#if SQZFW_CLK_HFXO
    uint32_t n;
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    for (n = 0u; n < SQZFW_CLOCK_WAIT_LIMIT && CLOCK_EVENTS_HFCLKSTARTED == 0u; n++) {
    }
    if (CLOCK_EVENTS_HFCLKSTARTED == 0u)
        return STEP_HFXO;
#endif
    return 0;
}

#else
typedef int sqzfw_clock_nrf52_unused; /* ISO C wants a non-empty translation unit */
#endif
