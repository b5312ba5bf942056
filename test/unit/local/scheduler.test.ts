import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HubModel, ScheduleModel, TargetModel } from '../../../infra/local/model';
import { type RunningScheduler, startScheduler } from '../../../infra/local/scheduler';
import { emptyModel } from '../../support/model';

const nightly: ScheduleModel = {
  key: 'zwfw-dev-private/NightlyStats',
  expression: 'cron(0 1 * * ? *)',
  timezone: 'Asia/Shanghai',
  enabled: true,
  target: { kind: 'function', functionKey: 'zwfw-dev-private/StatsFn', input: '{"job":"nightly"}' },
};

const everyFiveMinutes: ScheduleModel = {
  key: 'zwfw-dev-private/Sweep',
  expression: 'rate(5 minutes)',
  timezone: 'Asia/Shanghai',
  enabled: true,
  target: { kind: 'queue', queueKey: 'zwfw-dev-private/SweepQueue' },
};

const withSchedules = (...schedules: ScheduleModel[]): HubModel => emptyModel({ schedules });

describe('startScheduler', () => {
  let deliveries: { target: TargetModel; event: unknown; at: string }[];
  let scheduler: RunningScheduler | undefined;
  const deliver = async (target: TargetModel, event: unknown) => {
    deliveries.push({ target, event, at: new Date().toISOString() });
  };

  beforeEach(() => {
    deliveries = [];
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-21T10:00:00+08:00'));
  });

  afterEach(() => {
    scheduler?.stop();
    vi.useRealTimers();
  });

  it('fires a cron schedule at its due times with the target input as the event', async () => {
    scheduler = startScheduler({ model: withSchedules(nightly), deliver });
    expect(scheduler.next(nightly.key)?.toISOString()).toBe('2026-11-21T17:00:00.000Z');

    await vi.advanceTimersByTimeAsync(15 * 3_600_000 - 1);
    expect(deliveries).toEqual([]);

    await vi.advanceTimersByTimeAsync(1);
    expect(deliveries).toEqual([
      { target: nightly.target, event: { job: 'nightly' }, at: '2026-11-21T17:00:00.000Z' },
    ]);
    expect(scheduler.next(nightly.key)?.toISOString()).toBe('2026-11-22T17:00:00.000Z');

    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(deliveries.map((d) => d.at)).toEqual(['2026-11-21T17:00:00.000Z', '2026-11-22T17:00:00.000Z']);
  });

  it('fires a rate schedule every period from its start, with an empty event when there is no input', async () => {
    scheduler = startScheduler({ model: withSchedules(everyFiveMinutes), deliver });
    await vi.advanceTimersByTimeAsync(16 * 60_000);
    expect(deliveries.map((d) => d.at)).toEqual([
      '2026-11-21T02:05:00.000Z',
      '2026-11-21T02:10:00.000Z',
      '2026-11-21T02:15:00.000Z',
    ]);
    expect(deliveries[0]?.event).toEqual({});
  });

  it('never fires a disabled schedule on its own but fires any schedule on demand', async () => {
    scheduler = startScheduler({ model: withSchedules({ ...nightly, enabled: false }), deliver });
    expect(scheduler.next(nightly.key)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(48 * 3_600_000);
    expect(deliveries).toEqual([]);

    await scheduler.fire(nightly.key);
    expect(deliveries).toHaveLength(1);
  });

  it('stops firing after stop()', async () => {
    scheduler = startScheduler({ model: withSchedules(everyFiveMinutes), deliver });
    scheduler.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(deliveries).toEqual([]);
  });

  it('fires a one-time schedule once', async () => {
    const once = { ...nightly, key: 'once', expression: 'at(2026-11-21T10:30:00)' };
    scheduler = startScheduler({ model: withSchedules(once), deliver });
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);
    expect(deliveries.map((d) => d.at)).toEqual(['2026-11-21T02:30:00.000Z']);
    expect(scheduler.next('once')).toBeUndefined();
  });

  it('waits longer than one timer can in several hops', async () => {
    const yearly = { ...nightly, key: 'yearly', expression: 'cron(0 0 1 1 ? *)' };
    scheduler = startScheduler({ model: withSchedules(yearly), deliver });
    await vi.advanceTimersByTimeAsync(45 * 86_400_000);
    expect(deliveries.map((d) => d.at)).toEqual(['2026-12-31T16:00:00.000Z']);
  });

  it('keeps firing when a delivery fails', async () => {
    const log: Record<string, unknown>[] = [];
    const failing = async () => {
      deliveries.push({ target: everyFiveMinutes.target, event: null, at: new Date().toISOString() });
      throw new Error('boom');
    };
    scheduler = startScheduler({
      model: withSchedules(everyFiveMinutes),
      deliver: failing,
      log: (e) => log.push(e),
    });
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(deliveries).toHaveLength(2);
    expect(log.map((e) => e.schedule)).toEqual([everyFiveMinutes.key, everyFiveMinutes.key]);
  });

  it('refuses to start with a bad expression and names the schedule', () => {
    const bad = { ...nightly, expression: 'cron(0 1 ? * 6L *)' };
    expect(() => startScheduler({ model: withSchedules(bad), deliver })).toThrow(
      /schedule zwfw-dev-private\/NightlyStats: .*L, W or #/,
    );
  });

  it('throws for an unknown schedule key', async () => {
    scheduler = startScheduler({ model: emptyModel(), deliver });
    expect(() => scheduler?.next('nope')).toThrow('no schedule nope');
    await expect(scheduler.fire('nope')).rejects.toThrow('no schedule nope');
  });
});
