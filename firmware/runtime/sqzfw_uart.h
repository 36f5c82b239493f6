/*
 * UART driver interface used by sqzfw_rt.c. Exactly one driver is compiled in, selected by a macro from the
 * board profile (uart.kind): SQZFW_UART_CMSDK (sqzfw_uart_cmsdk.c), SQZFW_UART_STM32_USART (sqzfw_uart_stm32.c;
 * with SQZFW_UART_STM32_V1 for the SR/DR register layout), SQZFW_UART_NRF_UARTE (sqzfw_uart_nrf.c).
 * Drivers are register-level and polled; clock gates and pin multiplexing come from the board's init steps (except on
 * nRF, where the UARTE routes its own pins). A new driver is one file sqzfw_uart_<kind>.c guarded by its macro,
 * implementing these four functions.
 */
#ifndef SQZFW_UART_H
#define SQZFW_UART_H

#include <stdint.h>

#if (defined(SQZFW_UART_CMSDK) + defined(SQZFW_UART_STM32_USART) + defined(SQZFW_UART_NRF_UARTE)) != 1
#error "sqzfw runtime: define exactly one of SQZFW_UART_CMSDK, SQZFW_UART_STM32_USART, SQZFW_UART_NRF_UARTE (the generated Makefile does)"
#endif
#ifndef SQZFW_UART_BASE
#error "sqzfw runtime: define SQZFW_UART_BASE (the generated Makefile does)"
#endif
#ifndef SQZFW_CPU_HZ
#error "sqzfw runtime: define SQZFW_CPU_HZ (the generated Makefile does)"
#endif
#if defined(SQZFW_UART_NRF_UARTE) && !defined(SQZFW_UART_TX_PIN)
#error "sqzfw runtime: define SQZFW_UART_TX_PIN for the nRF UARTE (the generated Makefile does)"
#endif

/* Set the UART up for transmit and receive; safe to call again (the fault handler does). */
void sqzfw_uart_init(void);
/* Blocking write of one byte. */
void sqzfw_uart_putc(char c);
/* Wait until everything written has left the transmit buffer. */
void sqzfw_uart_flush(void);
/* One received byte (0..255), or -1 when none is waiting. Never blocks. A byte that arrives while the previous one
 * is still unread is lost (overrun), so callers poll faster than the line rate (the validation app does). */
int32_t sqzfw_uart_getc(void);

#endif /* SQZFW_UART_H */
