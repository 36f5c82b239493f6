/*
 * nRF52/nRF53 UARTE (UART with EasyDMA), register level (no nrfx). EasyDMA reads only RAM, so
 * characters are collected in a RAM buffer and sent a line (or a full buffer) at a time: STARTTX, then wait for
 * ENDTX. 8 data bits, no parity, no flow control; the TXD pin (SQZFW_UART_TX_PIN, 32-47 = port 1) is driven high
 * as an output before the UARTE takes it. On nRF52840-DK, UARTE0 TXD is P0.06 (to the J-Link virtual COM port).
 * Receive (with SQZFW_UART_RX_PIN, P0.08 on the DK): one byte per EasyDMA transfer into two RAM buffers used in
 * turn (RXD.PTR is double-buffered: the next pointer is set on RXSTARTED), restarted by the ENDRX_STARTRX shortcut;
 * a byte not read before the next two arrive is lost.
 */
#include "sqzfw_uart.h"

#if defined(SQZFW_UART_NRF_UARTE)

#define UARTE_REG(off) (*(volatile uint32_t *)((uintptr_t)(SQZFW_UART_BASE) + (off)))
#define UARTE_TASKS_STARTRX UARTE_REG(0x000u)
#define UARTE_TASKS_STARTTX UARTE_REG(0x008u)
#define UARTE_EVENTS_ENDRX UARTE_REG(0x110u)
#define UARTE_EVENTS_RXSTARTED UARTE_REG(0x14Cu)
#define UARTE_SHORTS UARTE_REG(0x200u)
#define UARTE_RXD_PTR UARTE_REG(0x534u)
#define UARTE_RXD_MAXCNT UARTE_REG(0x538u)
#define UARTE_SHORTS_ENDRX_STARTRX (1u << 5)
#define UARTE_EVENTS_ENDTX UARTE_REG(0x120u)
#define UARTE_ENABLE UARTE_REG(0x500u)
#define UARTE_PSEL_RTS UARTE_REG(0x508u)
#define UARTE_PSEL_TXD UARTE_REG(0x50Cu)
#define UARTE_PSEL_CTS UARTE_REG(0x510u)
#define UARTE_PSEL_RXD UARTE_REG(0x514u)
#define UARTE_BAUDRATE UARTE_REG(0x524u)
#define UARTE_TXD_PTR UARTE_REG(0x544u)
#define UARTE_TXD_MAXCNT UARTE_REG(0x548u)
#define UARTE_CONFIG UARTE_REG(0x56Cu)
#define UARTE_ENABLE_ON 8u
#define PSEL_DISCONNECTED 0xFFFFFFFFu

/* GPIO P0 at 0x50000000, P1 at 0x50000300: OUTSET +0x508, DIRSET +0x518. */
#define NRF_GPIO_BASE(port) (0x50000000u + 0x300u * (uint32_t)(port))
#define NRF_GPIO_OUTSET(port) (*(volatile uint32_t *)(uintptr_t)(NRF_GPIO_BASE(port) + 0x508u))
#define NRF_GPIO_DIRSET(port) (*(volatile uint32_t *)(uintptr_t)(NRF_GPIO_BASE(port) + 0x518u))

#ifndef SQZFW_UART_BAUD
#define SQZFW_UART_BAUD 115200
#endif

#define TX_PORT ((uint32_t)(SQZFW_UART_TX_PIN) / 32u)
#define TX_BIT ((uint32_t)(SQZFW_UART_TX_PIN) % 32u)

static uint8_t s_buf[128];
static uint32_t s_len;
#if defined(SQZFW_UART_RX_PIN)
static volatile uint8_t s_rx[2];
static uint32_t s_fill; /* the buffer the running transfer fills */
#endif

/* BAUDRATE register: baud * 2^32 / 16 MHz, rounded to a multiple of 0x1000 (115200 gives 0x01D7E000). */
static uint32_t baud_register(uint32_t baud)
{
    uint64_t v = (((uint64_t)baud << 32) + 8000000u) / 16000000u;
    return (uint32_t)((v + 0x800u) & ~(uint64_t)0xFFFu);
}

static void send(const uint8_t *p, uint32_t n)
{
    UARTE_EVENTS_ENDTX = 0u;
    UARTE_TXD_PTR = (uint32_t)(uintptr_t)p;
    UARTE_TXD_MAXCNT = n;
    UARTE_TASKS_STARTTX = 1u;
    while (UARTE_EVENTS_ENDTX == 0u) {
    }
    UARTE_EVENTS_ENDTX = 0u;
}

void sqzfw_uart_flush(void)
{
    if (s_len > 0u && s_len <= sizeof s_buf && UARTE_ENABLE == UARTE_ENABLE_ON)
        send(s_buf, s_len);
    s_len = 0u;
}

void sqzfw_uart_init(void)
{
    if (UARTE_ENABLE == UARTE_ENABLE_ON) {
        sqzfw_uart_flush(); /* called again (fault handler): send what is pending, keep the set-up */
        return;
    }
    s_len = 0u;
    NRF_GPIO_OUTSET(TX_PORT) = 1u << TX_BIT;
    NRF_GPIO_DIRSET(TX_PORT) = 1u << TX_BIT;
    UARTE_PSEL_TXD = (TX_PORT << 5) | TX_BIT;
#if defined(SQZFW_UART_RX_PIN)
    UARTE_PSEL_RXD = (((uint32_t)(SQZFW_UART_RX_PIN) / 32u) << 5) | ((uint32_t)(SQZFW_UART_RX_PIN) % 32u);
#else
    UARTE_PSEL_RXD = PSEL_DISCONNECTED;
#endif
    UARTE_PSEL_RTS = PSEL_DISCONNECTED;
    UARTE_PSEL_CTS = PSEL_DISCONNECTED;
    UARTE_BAUDRATE = baud_register((uint32_t)(SQZFW_UART_BAUD));
    UARTE_CONFIG = 0u;
    UARTE_ENABLE = UARTE_ENABLE_ON;
#if defined(SQZFW_UART_RX_PIN)
    s_fill = 0u;
    UARTE_EVENTS_RXSTARTED = 0u;
    UARTE_EVENTS_ENDRX = 0u;
    UARTE_RXD_PTR = (uint32_t)(uintptr_t)&s_rx[0];
    UARTE_RXD_MAXCNT = 1u;
    UARTE_SHORTS = UARTE_SHORTS_ENDRX_STARTRX;
    UARTE_TASKS_STARTRX = 1u;
#endif
}

int32_t sqzfw_uart_getc(void)
{
#if defined(SQZFW_UART_RX_PIN)
    if (UARTE_EVENTS_RXSTARTED != 0u) {
        UARTE_EVENTS_RXSTARTED = 0u;
        UARTE_RXD_PTR = (uint32_t)(uintptr_t)&s_rx[s_fill ^ 1u]; /* where the transfer after this one goes */
    }
    if (UARTE_EVENTS_ENDRX != 0u) {
        uint8_t b;
        UARTE_EVENTS_ENDRX = 0u;
        b = s_rx[s_fill];
        s_fill ^= 1u;
        return (int32_t)b;
    }
#endif
    return -1;
}

void sqzfw_uart_putc(char c)
{
    if (s_len >= sizeof s_buf)
        sqzfw_uart_flush();
    s_buf[s_len++] = (uint8_t)c;
    if (c == '\n')
        sqzfw_uart_flush();
}

#else
typedef int sqzfw_uart_nrf_unused; /* ISO C wants a non-empty translation unit */
#endif
