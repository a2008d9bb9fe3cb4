/**
 * drivers/iommu/apple-dart.c: what a DART does with `apple_dart_hw_invalidate_tlb` (T8020/T6000:
 * STREAM_COMMAND = INVALIDATE for the selected streams; T8110: one TLB_CMD FLUSH_SID per
 * stream), for the core's IOTLB model. There is no range or page invalidation: every command
 * drops the whole TLB of its streams, and the driver polls the busy bit before returning, so
 * each command is complete when written (no separate barrier).
 *
 * The feed reads the DART's TLB-command log (nothing in the invalidation path changes).
 */
import { type IotlbCommandFeed, IotlbModel, type IotlbModelOptions } from "@iommu/core";
import type { AppleDart, AppleDartTlbCommand } from "./apple-dart.js";
import type { AppleDartDomain } from "./domain.js";

/** Model-only: how {@link appleDartIotlbFeed} reads the log. */
export interface AppleDartIotlbFeedOptions {
  /** Fault injection: replace (or drop with null) each command before the DART executes it. */
  rewrite?: (cmd: AppleDartTlbCommand) => AppleDartTlbCommand | null;
}

function firstStream(d: AppleDartDomain): { dart: AppleDart; sid: number } {
  const sm = d.streamMaps[0];
  const sid = sm ? sm.sidmap.indexOf(1) : -1;
  if (!sm || sid < 0) throw new Error("apple-dart iotlb: the domain has no stream attached");
  return { dart: sm.dart, sid };
}

/** Model-only: an IOTLB model of the TLB of the domain's first stream (tagged with its stream id). */
export function appleDartIotlbModel(
  d: AppleDartDomain,
  options: Omit<IotlbModelOptions, "tag"> = {},
): IotlbModel {
  return new IotlbModel(d, { ...options, tag: firstStream(d).sid });
}

/**
 * Model-only: the TLB commands the domain's first DART wrote since the feed was made, applied
 * at each drain (a stream invalidation, complete at once). Throws if the log dropped commands.
 */
export function appleDartIotlbFeed(
  d: AppleDartDomain,
  options: AppleDartIotlbFeedOptions = {},
): IotlbCommandFeed {
  const { dart } = firstStream(d);
  let mark = dart.tlbCommands;
  return {
    drain(model) {
      const log = dart.tlbLog;
      const n = dart.tlbCommands - mark;
      if (n > log.length) throw new Error(`appleDartIotlbFeed: ${n - log.length} commands fell off the log`);
      mark = dart.tlbCommands;
      for (let i = log.length - n; i < log.length; i++) {
        const c = options.rewrite ? options.rewrite(log[i]!) : log[i]!;
        if (!c) continue;
        for (const sid of c.sids)
          model.issue({
            scope: "tag",
            tag: sid,
            iova: 0,
            size: 0,
            leafOnly: false,
            leafSize: 0,
            command: c.reg,
          });
        model.sync();
      }
    },
  };
}
