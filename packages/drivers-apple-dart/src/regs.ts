/**
 * drivers/iommu/apple-dart.c: the DART register fields the paging side touches — PARAMS1..4
 * (what the probe reads), the per-stream TCR and TTBR encodings of the T8020/T6000 and T8110
 * register layouts, the lock bits and the TLB invalidation commands.
 */

/** `DART_MAX_STREAMS`: stream IDs one DART can have (the sid bitmaps' size). */
export const DART_MAX_STREAMS = 256;
/** `DART_MAX_TTBR`: TTBRs per stream on any layout. */
export const DART_MAX_TTBR = 4;
/** `MAX_DARTS_PER_DEVICE`: DARTs one master may sit behind. */
export const MAX_DARTS_PER_DEVICE = 3;

/** `DART_PARAMS1_PAGE_SHIFT`: PARAMS1[27:24], log2 of the DART's page size. */
export const DART_PARAMS1_PAGE_SHIFT_SHIFT = 24;
/** `DART_PARAMS2_BYPASS_SUPPORT`: PARAMS2 bit 0. */
export const DART_PARAMS2_BYPASS_SUPPORT = 1 << 0;

/** `DART_T8110_PARAMS3_PA_WIDTH` (PARAMS3[29:24]) and `_VA_WIDTH` (PARAMS3[21:16]). */
export const DART_T8110_PARAMS3_PA_WIDTH_SHIFT = 24;
export const DART_T8110_PARAMS3_VA_WIDTH_SHIFT = 16;
/** `DART_T8110_PARAMS4_NUM_SIDS`: PARAMS4[8:0]. */
export const DART_T8110_PARAMS4_NUM_SIDS_MASK = 0x1ff;

/** `DART_T8020_CONFIG_LOCK`: CONFIG bit 15, the DART is locked until reboot. */
export const DART_T8020_CONFIG_LOCK = 1 << 15;
/** `DART_T8110_PROTECT_TTBR_TCR`: PROTECT bit 0. */
export const DART_T8110_PROTECT_TTBR_TCR = 1 << 0;

/** T8020/T6000 `TCR`: TRANSLATE_ENABLE bit 7, BYPASS_DART bit 8, BYPASS_DAPF bit 12. */
export const DART_T8020_TCR_TRANSLATE_ENABLE = 1 << 7;
export const DART_T8020_TCR_BYPASS_DART = 1 << 8;
export const DART_T8020_TCR_BYPASS_DAPF = 1 << 12;
/** T8110 `TCR`: TRANSLATE_ENABLE bit 0, BYPASS_DART bit 1, BYPASS_DAPF bit 2, FOUR_LEVEL bit 3. */
export const DART_T8110_TCR_TRANSLATE_ENABLE = 1 << 0;
export const DART_T8110_TCR_BYPASS_DART = 1 << 1;
export const DART_T8110_TCR_BYPASS_DAPF = 1 << 2;
export const DART_T8110_TCR_FOUR_LEVEL = 1 << 3;

/** T8020/T6000 `TTBR`: VALID bit 31, the table address >> 12 in the low bits. */
export const DART_T8020_TTBR_VALID = 0x8000_0000;
export const DART_T8020_TTBR_ADDR_FIELD_SHIFT = 0;
export const DART_T8020_TTBR_SHIFT = 12;
/** T8110 `TTBR`: VALID bit 0, the table address >> 14 from bit 2. */
export const DART_T8110_TTBR_VALID = 1 << 0;
export const DART_T8110_TTBR_ADDR_FIELD_SHIFT = 2;
export const DART_T8110_TTBR_SHIFT = 14;

/** `DART_T8020_STREAM_COMMAND_INVALIDATE`: the stream-select TLB invalidation (bit 20). */
export const DART_T8020_STREAM_COMMAND_INVALIDATE = 1 << 20;
/** `DART_T8110_TLB_CMD_OP_FLUSH_SID`: the per-stream TLB flush (TLB_CMD[10:8] = 1, stream in [7:0]). */
export const DART_T8110_TLB_CMD_OP_FLUSH_SID = 1;
export const DART_T8110_TLB_CMD_OP_SHIFT = 8;
