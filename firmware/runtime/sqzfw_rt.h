/*
 * sqzfw firmware runtime: console output, a 64-bit tick counter and exit, for bare-metal Cortex-M.
 *
 * Configured at compile time by the generated Makefile (from the board profile):
 *   SQZFW_CPU_HZ        core clock in Hz (SysTick counts it)
 *   SQZFW_UART_CMSDK    UART driver (one of SQZFW_UART_CMSDK, SQZFW_UART_STM32_USART, SQZFW_UART_NRF_UARTE;
 *                       SQZFW_UART_STM32_V1 selects the SR/DR register layout of STM32F1/F2/F4/L1)
 *   SQZFW_UART_BASE     UART base address
 *   SQZFW_UART_BAUD     optional baud rate (real hardware; STM32 and nRF default to 115200)
 *   SQZFW_UART_CLK_HZ   optional clock of the UART's baud generator (default SQZFW_CPU_HZ)
 *   SQZFW_UART_TX_PIN   nRF UARTE: TXD pin (port 1 pins are 32-47)
 *   SQZFW_CM7_CACHES    enable the Cortex-M7 L1 caches at reset
 *   SQZFW_BOARD_INIT    run the board's register init steps (generated src/sqzfw_board.c) at reset
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

void sqzfw_rt_init(void);                 /* UART, SysTick tick counter and DWT cycle counter start */
void sqzfw_rt_putc(char c);
void sqzfw_rt_puts(const char *s);        /* no newline appended */
void sqzfw_rt_put_u32(uint32_t v);
void sqzfw_rt_put_i32(int32_t v);
void sqzfw_rt_put_hex(const void *p, uint32_t n); /* lowercase hex, 2 chars/byte, no separators */
uint64_t sqzfw_rt_ticks(void);            /* SysTick-based 64-bit counter of core clock ticks since init */
const char *sqzfw_rt_tick_unit(void);     /* documents what ticks mean on this build */
/* Core clock cycles from the DWT cycle counter, extended to 64 bits (real cores). The counter does not run under
 * QEMU (and most Renode platforms): then sqzfw_rt_cycles_counting() is 0 and sqzfw_rt_cycles() stays 0. */
uint64_t sqzfw_rt_cycles(void);
int sqzfw_rt_cycles_counting(void);
/* Prints "cycles <c1 - c0>\n", or "cycles unavailable: ...\n" when the counter does not run (never a fake 0). */
void sqzfw_rt_report_cycles(uint64_t c0, uint64_t c1);
void sqzfw_rt_exit(int code) __attribute__((noreturn)); /* semihosting SYS_EXIT_EXTENDED when SQZFW_SEMIHOSTING, else flush UART and loop (wfi) */

#ifdef __cplusplus
}
#endif

#endif /* SQZFW_RT_H */
