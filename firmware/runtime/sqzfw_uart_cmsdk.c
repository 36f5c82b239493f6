/* Arm CMSDK APB UART (MPS2/MPS3 FPGA images, QEMU mps2-* machines): transmit and receive, polled. */
#include "sqzfw_uart.h"

#include "sqzfw_clock.h"

#if defined(SQZFW_UART_CMSDK)

#define CMSDK_REG(off) (*(volatile uint32_t *)((uintptr_t)(SQZFW_UART_BASE) + (off)))
#define CMSDK_DATA CMSDK_REG(0x00u)
#define CMSDK_STATE CMSDK_REG(0x04u) /* bit 0: TX buffer full, bit 1: RX buffer full */
#define CMSDK_CTRL CMSDK_REG(0x08u)  /* bit 0: TX enable, bit 1: RX enable */
#define CMSDK_BAUDDIV CMSDK_REG(0x10u)

#define CMSDK_STATE_TXFULL 1u
#define CMSDK_CTRL_TXEN 1u
#define CMSDK_CTRL_RXEN 2u
#define CMSDK_STATE_RXFULL 2u

void sqzfw_uart_init(void)
{
#if defined(SQZFW_UART_BAUD)
    uint32_t div = sqzfw_clock_cpu_hz() / (uint32_t)(SQZFW_UART_BAUD);
    CMSDK_BAUDDIV = div < 16u ? 16u : div;
#else
    CMSDK_BAUDDIV = 16u; /* the minimum the UART accepts; QEMU ignores the rate */
#endif
    CMSDK_CTRL = CMSDK_CTRL_TXEN | CMSDK_CTRL_RXEN;
}

void sqzfw_uart_putc(char c)
{
    while (CMSDK_STATE & CMSDK_STATE_TXFULL) {
    }
    CMSDK_DATA = (uint32_t)(uint8_t)c;
}

void sqzfw_uart_flush(void)
{
    while (CMSDK_STATE & CMSDK_STATE_TXFULL) {
    }
}

int32_t sqzfw_uart_getc(void)
{
    if ((CMSDK_STATE & CMSDK_STATE_RXFULL) == 0u)
        return -1;
    return (int32_t)(CMSDK_DATA & 0xFFu);
}

#else
typedef int sqzfw_uart_cmsdk_unused; /* ISO C wants a non-empty translation unit */
#endif
