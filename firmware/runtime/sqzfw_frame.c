/* sqzfw framed UART protocol: see sqzfw_frame.h. */
#include "sqzfw_frame.h"

#include "sqzfw_rt.h"
#include "sqzfw_uart.h"

/* CRC-32 four bits at a time: a 64-byte table instead of 1 KiB. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t sqzfw_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    }
    return crc;
}

/* One byte within `timeout` ticks of `*last` (updated), or -1. */
static int32_t get_byte(uint64_t *last, uint64_t timeout)
{
    for (;;) {
        const int32_t c = sqzfw_uart_getc();
        const uint64_t now = sqzfw_rt_ticks();
        if (c >= 0) {
            *last = now;
            return c;
        }
        if (now - *last > timeout)
            return -1;
    }
}

static int32_t get_bytes(uint8_t *dst, uint32_t n, uint32_t *crc, uint64_t *last, uint64_t timeout)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        const int32_t c = get_byte(last, timeout);
        uint8_t b;
        if (c < 0)
            return -1;
        b = (uint8_t)c;
        if (dst)
            dst[i] = b;
        if (crc)
            *crc = sqzfw_crc32_update(*crc, &b, 1u);
    }
    return 0;
}

int32_t sqzfw_frame_receive(sqzfw_frame_header *h, uint8_t *buf, uint32_t cap, uint64_t byte_timeout)
{
    uint8_t head[8];
    uint8_t tail[4];
    uint32_t crc = 0xFFFFFFFFu;
    uint64_t last;
    int32_t prev = -1;

    h->type = 0u;
    h->seq = 0u;
    h->length = 0u;
    /* The magic: wait as long as it takes, skipping anything else. */
    for (;;) {
        const int32_t c = sqzfw_uart_getc();
        if (c < 0)
            continue;
        if (prev == (int32_t)SQZFW_FRAME_MAGIC0 && c == (int32_t)SQZFW_FRAME_MAGIC1)
            break;
        prev = c;
    }
    last = sqzfw_rt_ticks();
    if (get_bytes(head, 8u, &crc, &last, byte_timeout) != 0)
        return SQZFW_FRAME_ERR_TIMEOUT;
    h->type = head[0];
    h->seq = (uint16_t)(head[2] | ((uint32_t)head[3] << 8));
    h->length = (uint32_t)head[4] | ((uint32_t)head[5] << 8) | ((uint32_t)head[6] << 16) | ((uint32_t)head[7] << 24);
    if (get_bytes(h->length <= cap ? buf : 0, h->length, &crc, &last, byte_timeout) != 0)
        return SQZFW_FRAME_ERR_TIMEOUT;
    if (get_bytes(tail, 4u, 0, &last, byte_timeout) != 0)
        return SQZFW_FRAME_ERR_TIMEOUT;
    if ((~crc) != ((uint32_t)tail[0] | ((uint32_t)tail[1] << 8) | ((uint32_t)tail[2] << 16) | ((uint32_t)tail[3] << 24)))
        return SQZFW_FRAME_ERR_CRC;
    return h->length <= cap ? SQZFW_FRAME_OK : SQZFW_FRAME_ERR_LENGTH;
}

static void put_raw(const uint8_t *p, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++)
        sqzfw_uart_putc((char)p[i]);
}

void sqzfw_frame_begin(sqzfw_frame_tx *tx, uint8_t type, uint16_t seq, uint32_t length)
{
    const uint8_t magic[2] = { SQZFW_FRAME_MAGIC0, SQZFW_FRAME_MAGIC1 };
    uint8_t head[8];
    head[0] = type;
    head[1] = 0u;
    head[2] = (uint8_t)seq;
    head[3] = (uint8_t)(seq >> 8);
    head[4] = (uint8_t)length;
    head[5] = (uint8_t)(length >> 8);
    head[6] = (uint8_t)(length >> 16);
    head[7] = (uint8_t)(length >> 24);
    put_raw(magic, 2u);
    tx->crc = 0xFFFFFFFFu;
    sqzfw_frame_put(tx, head, 8u);
}

void sqzfw_frame_put(sqzfw_frame_tx *tx, const void *p, uint32_t n)
{
    tx->crc = sqzfw_crc32_update(tx->crc, (const uint8_t *)p, n);
    put_raw((const uint8_t *)p, n);
}

void sqzfw_frame_put_u32(sqzfw_frame_tx *tx, uint32_t v)
{
    uint8_t b[4];
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
    sqzfw_frame_put(tx, b, 4u);
}

void sqzfw_frame_put_u64(sqzfw_frame_tx *tx, uint64_t v)
{
    sqzfw_frame_put_u32(tx, (uint32_t)v);
    sqzfw_frame_put_u32(tx, (uint32_t)(v >> 32));
}

void sqzfw_frame_end(sqzfw_frame_tx *tx)
{
    const uint32_t crc = ~tx->crc;
    uint8_t b[4];
    b[0] = (uint8_t)crc;
    b[1] = (uint8_t)(crc >> 8);
    b[2] = (uint8_t)(crc >> 16);
    b[3] = (uint8_t)(crc >> 24);
    put_raw(b, 4u);
    sqzfw_uart_flush();
}

void sqzfw_frame_send_error(uint16_t seq, int32_t code, uint32_t detail)
{
    sqzfw_frame_tx tx;
    const uint8_t c[4] = { (uint8_t)code, 0u, 0u, 0u };
    sqzfw_frame_begin(&tx, SQZFW_FRAME_ERROR, seq, 8u);
    sqzfw_frame_put(&tx, c, 4u);
    sqzfw_frame_put_u32(&tx, detail);
    sqzfw_frame_end(&tx);
}
