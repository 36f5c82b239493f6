/*
 * Framed binary protocol on the UART, used by the validation app (`sqzfw generate --app validate`) and read by
 * `sqzfw validate` (src/validate/protocol.ts is the host side). Every frame, both directions:
 *
 *   offset 0  magic 0xA5 0x5A (bytes no text line contains)
 *          2  type (u8)
 *          3  flags (u8, 0)
 *          4  sequence number (u16, little-endian; an answer repeats its request's)
 *          6  payload length (u32, little-endian)
 *         10  payload
 *   10 + len  CRC-32 (IEEE 802.3, as zlib's crc32; little-endian) of bytes 2 .. 10 + len - 1
 *
 * Requests: HELLO (empty) -> INFO; INFER (the int8 input tensor) -> RESULT; BYE (empty) -> ACK, then the firmware
 * exits. A frame the firmware cannot use is answered by ERROR (u8 code, 3 zero bytes, u32 detail): bad CRC, wrong
 * length, unknown type, a frame that stopped arriving (no byte for the byte timeout after its magic), or a model
 * that cannot run (scratch too small).
 * Text lines (start-up messages, a fault report) may come between frames; the host keeps them.
 */
#ifndef SQZFW_FRAME_H
#define SQZFW_FRAME_H

#include <stdint.h>

#define SQZFW_FRAME_MAGIC0 0xA5u
#define SQZFW_FRAME_MAGIC1 0x5Au
#define SQZFW_FRAME_VERSION 1u

enum {
    SQZFW_FRAME_HELLO = 0x01,
    SQZFW_FRAME_INFER = 0x02,
    SQZFW_FRAME_BYE = 0x03,
    SQZFW_FRAME_INFO = 0x81,
    SQZFW_FRAME_RESULT = 0x82,
    SQZFW_FRAME_ACK = 0x83,
    SQZFW_FRAME_ERROR = 0xEE
};

enum {
    SQZFW_FRAME_OK = 0,
    SQZFW_FRAME_ERR_CRC = 1,
    SQZFW_FRAME_ERR_LENGTH = 2,
    SQZFW_FRAME_ERR_TYPE = 3,
    SQZFW_FRAME_ERR_TIMEOUT = 4,
    SQZFW_FRAME_ERR_SCRATCH = 5 /* the linked CMSIS-NN needs more scratch than planned (detail: the step) */
};

typedef struct {
    uint8_t type;
    uint16_t seq;
    uint32_t length;
} sqzfw_frame_header;

/* CRC-32 (reflected polynomial 0xEDB88320): start with 0xFFFFFFFF, finish with ~crc. */
uint32_t sqzfw_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n);

/*
 * Waits for a frame (as long as it takes for its magic), then reads the rest with at most `byte_timeout` SysTick
 * ticks between two bytes. The payload goes to buf when length <= cap; a longer one is read and dropped
 * (SQZFW_FRAME_ERR_LENGTH). Returns SQZFW_FRAME_OK or an error code; *h holds what was read of the header.
 */
int32_t sqzfw_frame_receive(sqzfw_frame_header *h, uint8_t *buf, uint32_t cap, uint64_t byte_timeout);

/* Sending: begin (header), put the payload in pieces (exactly `length` bytes in all), end (CRC). */
typedef struct {
    uint32_t crc;
} sqzfw_frame_tx;
void sqzfw_frame_begin(sqzfw_frame_tx *tx, uint8_t type, uint16_t seq, uint32_t length);
void sqzfw_frame_put(sqzfw_frame_tx *tx, const void *p, uint32_t n);
void sqzfw_frame_put_u32(sqzfw_frame_tx *tx, uint32_t v);
void sqzfw_frame_put_u64(sqzfw_frame_tx *tx, uint64_t v);
void sqzfw_frame_end(sqzfw_frame_tx *tx);
/* ERROR frame: code, detail. */
void sqzfw_frame_send_error(uint16_t seq, int32_t code, uint32_t detail);

#endif /* SQZFW_FRAME_H */
