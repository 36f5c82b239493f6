/*
 * STM32 USART/UART, transmit and receive, polled, register level (no HAL). Two register layouts:
 *   default              ISR/TDR layout (STM32F0/F3/F7/H7/L4/G4): CR1 +0x00, BRR +0x0C, ISR +0x1C, ICR +0x20,
 *                        RDR +0x24, TDR +0x28; CR1.UE is bit 0, BRR is written while UE = 0; on H7 the FIFO stays
 *                        disabled (ISR.TXE, ISR.RXNE); an overrun (ISR.ORE) is cleared through ICR.ORECF
 *   SQZFW_UART_STM32_V1  SR/DR layout (STM32F1/F2/F4/L1): SR +0x00, DR +0x04, BRR +0x08, CR1 +0x0C; CR1.UE is bit 13;
 *                        reading SR then DR clears an overrun
 * 8 data bits, no parity, 1 stop bit, oversampling by 16: BRR = f_clk / baud, with f_clk the kernel clock running
 * (sqzfw_clock_uart_hz: SQZFW_UART_CLK_HZ from the board's clock tree, or the reset clock after a fallback); the
 * board's init steps enable its clock gate and put its TX and RX pins on the right alternate function.
 */
#include "sqzfw_uart.h"

#include "sqzfw_clock.h"

#if defined(SQZFW_UART_STM32_USART)

#define STM32_REG(off) (*(volatile uint32_t *)((uintptr_t)(SQZFW_UART_BASE) + (off)))

#if defined(SQZFW_UART_STM32_V1)
#define USART_STATUS STM32_REG(0x00u) /* SR */
#define USART_TDATA STM32_REG(0x04u)  /* DR */
#define USART_RDATA STM32_REG(0x04u)  /* DR */
#define USART_BRR STM32_REG(0x08u)
#define USART_CR1 STM32_REG(0x0Cu)
#define USART_CR1_UE (1u << 13)
#else
#define USART_CR1 STM32_REG(0x00u)
#define USART_BRR STM32_REG(0x0Cu)
#define USART_STATUS STM32_REG(0x1Cu) /* ISR */
#define USART_TDATA STM32_REG(0x28u)  /* TDR */
#define USART_RDATA STM32_REG(0x24u)  /* RDR */
#define USART_ICR STM32_REG(0x20u)
#define USART_CR1_UE (1u << 0)
#endif
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)
#define USART_STATUS_ORE (1u << 3)
#define USART_STATUS_RXNE (1u << 5)
#define USART_STATUS_TC (1u << 6)
#define USART_STATUS_TXE (1u << 7)

#ifndef SQZFW_UART_BAUD
#define SQZFW_UART_BAUD 115200
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
    /* The kernel clock now running: the configured one, or the reset clock when the clock set-up fell back. */
    const uint32_t brr = (sqzfw_clock_uart_hz() + (uint32_t)(SQZFW_UART_BAUD) / 2u) / (uint32_t)(SQZFW_UART_BAUD);

    const uint32_t on = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;

    if ((USART_CR1 & on) == on && USART_BRR == brr)
        return; /* already running: keep what is being sent */
    if (USART_CR1 & USART_CR1_UE)
        wait_tc();
    USART_CR1 = 0u;
    USART_BRR = brr;
    USART_CR1 = USART_CR1_TE | USART_CR1_RE;
    USART_CR1 = on;
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

int32_t sqzfw_uart_getc(void)
{
    const uint32_t st = USART_STATUS;
    if (st & USART_STATUS_RXNE)
        return (int32_t)(USART_RDATA & 0xFFu);
    if (st & USART_STATUS_ORE) {
#if defined(SQZFW_UART_STM32_V1)
        (void)USART_RDATA; /* SR read, then DR read: clears ORE */
#else
        USART_ICR = USART_STATUS_ORE; /* ORECF */
#endif
    }
    return -1;
}

#else
typedef int sqzfw_uart_stm32_unused; /* ISO C wants a non-empty translation unit */
#endif
