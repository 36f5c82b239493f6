/*
 * sqzfw firmware runtime: console output, a 64-bit tick counter and exit, for bare-metal Cortex-M.
 *
 * Configured at compile time by the generated Makefile (from the board profile):
 *   SQZFW_CPU_HZ        core clock in Hz (SysTick counts it)
 *   SQZFW_UART_CMSDK    UART driver (one of SQZFW_UART_CMSDK, SQZFW_UART_STM32_USART, SQZFW_UART_NRF_UARTE)
 *   SQZFW_UART_BASE     UART base address
 *   SQZFW_UART_BAUD     optional baud rate (real hardware)
 *   SQZFW_SEMIHOSTING   exit through semihosting (QEMU, or a debugger attached); a bare board would fault
 *   SQZFW_BOARD_NAME    board name string, e.g. "mps2-an500"
 * Nothing here allocates memory.
 */
#ifndef SQZFW_RT_H
#define SQZFW_RT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void sqzfw_rt_init(void);                 /* UART + instruction counter start */
void sqzfw_rt_putc(char c);
void sqzfw_rt_puts(const char *s);        /* no newline appended */
void sqzfw_rt_put_u32(uint32_t v);
void sqzfw_rt_put_i32(int32_t v);
void sqzfw_rt_put_hex(const void *p, uint32_t n); /* lowercase hex, 2 chars/byte, no separators */
uint64_t sqzfw_rt_ticks(void);            /* SysTick-based 64-bit counter of core clock ticks since init */
const char *sqzfw_rt_tick_unit(void);     /* documents what ticks mean on this build */
void sqzfw_rt_exit(int code) __attribute__((noreturn)); /* semihosting SYS_EXIT_EXTENDED when SQZFW_SEMIHOSTING, else flush UART and loop (wfi) */

#ifdef __cplusplus
}
#endif

#endif /* SQZFW_RT_H */
