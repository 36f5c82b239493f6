/* sqzfw clock state shared by the family files: see sqzfw_clock.h. */
#include "sqzfw_clock.h"

#ifndef SQZFW_UART_CLK_HZ
#define SQZFW_UART_CLK_HZ SQZFW_CPU_HZ
#endif
#ifndef SQZFW_RESET_CPU_HZ
#define SQZFW_RESET_CPU_HZ SQZFW_CPU_HZ
#endif
#ifndef SQZFW_RESET_UART_CLK_HZ
#define SQZFW_RESET_UART_CLK_HZ SQZFW_UART_CLK_HZ
#endif

static int32_t s_failed_step;

void sqzfw_clock_record(int32_t failed_step) { s_failed_step = failed_step; }
int32_t sqzfw_clock_failed_step(void) { return s_failed_step; }
uint32_t sqzfw_clock_cpu_hz(void) { return s_failed_step == 0 ? (uint32_t)(SQZFW_CPU_HZ) : (uint32_t)(SQZFW_RESET_CPU_HZ); }
uint32_t sqzfw_clock_uart_hz(void) { return s_failed_step == 0 ? (uint32_t)(SQZFW_UART_CLK_HZ) : (uint32_t)(SQZFW_RESET_UART_CLK_HZ); }

#if !defined(SQZFW_CLOCK_STM32H7) && !defined(SQZFW_CLOCK_STM32F4F7) && !defined(SQZFW_CLOCK_NRF52)
/* No clock section: the board (or QEMU machine) runs at its reset clock. */
int32_t sqzfw_clock_setup(void) { return 0; }
const char *sqzfw_clock_step_name(int32_t step) { return step == 0 ? "none" : "?"; }
#endif
