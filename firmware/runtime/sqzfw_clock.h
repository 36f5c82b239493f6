/*
 * Clock set-up at reset, from the board profile's "clock" section (src/boards/clock.ts computes the register
 * fields; the generated Makefile passes them as SQZFW_CLK_* defines). One file per MCU family, selected by its macro:
 *   SQZFW_CLOCK_STM32H7     sqzfw_clock_stm32h7.c     (RM0433)
 *   SQZFW_CLOCK_STM32F4F7   sqzfw_clock_stm32f4f7.c   (RM0090 F429, RM0385 F746: same RCC/PWR/FLASH layout)
 *   SQZFW_CLOCK_NRF52       sqzfw_clock_nrf52.c       (nRF52840 PS)
 *   none                    the reset clock (QEMU machines and twins)
 * Every wait is bounded (SQZFW_CLOCK_WAIT_LIMIT polls). When one times out, the set-up stops, the core stays on (or
 * goes back to) the reset clock, the UART uses the reset clock's baud divisor, and sqzfw_rt_init prints
 * "sqzfw clock: <step> timed out: running at the reset clock <hz> Hz".
 */
#ifndef SQZFW_CLOCK_H
#define SQZFW_CLOCK_H

#include <stdint.h>

#ifndef SQZFW_CLOCK_WAIT_LIMIT
#define SQZFW_CLOCK_WAIT_LIMIT 2000000u
#endif

/* Runs the family's register steps; called by Reset_Handler before .data and .bss are set up (uses no static
 * variables). Returns 0, or the number of the step that timed out. */
int32_t sqzfw_clock_setup(void);
/* Keeps setup's result once .data/.bss exist (Reset_Handler calls it). */
void sqzfw_clock_record(int32_t failed_step);
/* 0 when the configured clock runs, else the step that timed out (see sqzfw_clock_step_name). */
int32_t sqzfw_clock_failed_step(void);
const char *sqzfw_clock_step_name(int32_t step);
/* The core clock (SysTick, DWT) and the UART kernel clock now running. */
uint32_t sqzfw_clock_cpu_hz(void);
uint32_t sqzfw_clock_uart_hz(void);

#endif /* SQZFW_CLOCK_H */
