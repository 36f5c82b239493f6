/*
 * STM32 USART/UART, transmit only, polled, register level (no HAL). Two register layouts:
 *   default              ISR/TDR layout (STM32F0/F3/F7/H7/L4/G4): CR1 +0x00, BRR +0x0C, ISR +0x1C, TDR +0x28;
 *                        CR1.UE is bit 0, BRR is written while UE = 0; on H7 the FIFO stays disabled (ISR.TXE)
 *   SQZFW_UART_STM32_V1  SR/DR layout (STM32F1/F2/F4/L1): SR +0x00, DR +0x04, BRR +0x08, CR1 +0x0C; CR1.UE is bit 13
 * 8 data bits, no parity, 1 stop bit, oversampling by 16: BRR = f_clk / baud. The kernel clock (SQZFW_UART_CLK_HZ,
 * default SQZFW_CPU_HZ) must be the one the reset clock tree feeds the UART; the board's init steps enable its clock
 * gate and put its TX pin on the right alternate function.
 */
#include "sqzfw_uart.h"

#if defined(SQZFW_UART_STM32_USART)

#define STM32_REG(off) (*(volatile uint32_t *)((uintptr_t)(SQZFW_UART_BASE) + (off)))

#if defined(SQZFW_UART_STM32_V1)
#define USART_STATUS STM32_REG(0x00u) /* SR */
#define USART_TDATA STM32_REG(0x04u)  /* DR */
#define USART_BRR STM32_REG(0x08u)
#define USART_CR1 STM32_REG(0x0Cu)
#define USART_CR1_UE (1u << 13)
#else
#define USART_CR1 STM32_REG(0x00u)
#define USART_BRR STM32_REG(0x0Cu)
#define USART_STATUS STM32_REG(0x1Cu) /* ISR */
#define USART_TDATA STM32_REG(0x28u)  /* TDR */
#define USART_CR1_UE (1u << 0)
#endif
#define USART_CR1_TE (1u << 3)
#define USART_STATUS_TC (1u << 6)
#define USART_STATUS_TXE (1u << 7)

#ifndef SQZFW_UART_BAUD
#define SQZFW_UART_BAUD 115200
#endif
#ifndef SQZFW_UART_CLK_HZ
#define SQZFW_UART_CLK_HZ SQZFW_CPU_HZ
#endif

/* Bounded wait for the last frame to leave before the UART is reconfigured (the fault handler calls init again). */
static void wait_tc(void)
{
    uint32_t n;
    for (n = 0; n < 1000000u && (USART_STATUS & USART_STATUS_TC) == 0u; n++) {
    }
}

void sqzfw_uart_init(void)
{
    const uint32_t brr = ((uint32_t)(SQZFW_UART_CLK_HZ) + (uint32_t)(SQZFW_UART_BAUD) / 2u) / (uint32_t)(SQZFW_UART_BAUD);

    if ((USART_CR1 & (USART_CR1_UE | USART_CR1_TE)) == (USART_CR1_UE | USART_CR1_TE) && USART_BRR == brr)
        return; /* already running: keep what is being sent */
    if (USART_CR1 & USART_CR1_UE)
        wait_tc();
    USART_CR1 = 0u;
    USART_BRR = brr;
    USART_CR1 = USART_CR1_TE;
    USART_CR1 = USART_CR1_TE | USART_CR1_UE;
}

void sqzfw_uart_putc(char c)
{
    while ((USART_STATUS & USART_STATUS_TXE) == 0u) {
    }
    USART_TDATA = (uint32_t)(uint8_t)c;
}

void sqzfw_uart_flush(void)
{
    while ((USART_STATUS & USART_STATUS_TXE) == 0u) {
    }
    wait_tc();
}

#else
typedef int sqzfw_uart_stm32_unused; /* ISO C wants a non-empty translation unit */
#endif
