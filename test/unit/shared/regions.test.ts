import { describe, expect, it } from 'vitest';
import {
  findProvince,
  inRegionScope,
  isKnownRegion,
  PROVINCES,
  provinceOf,
  regionCodeSchema,
} from '../../../shared/regions';

describe('regions', () => {
  it('lists the 32 provincial-level regions once each, XPCC included', () => {
    expect(PROVINCES).toHaveLength(32);
    expect(new Set(PROVINCES.map((p) => p.code)).size).toBe(32);
    expect(findProvince('660000')).toMatchObject({ nameZh: '新疆生产建设兵团' });
    expect(findProvince('330106')).toEqual({ code: '330000', name: 'Zhejiang', nameZh: '浙江' });
    for (const province of PROVINCES) expect(province.code).toMatch(/^\d{2}0000$/);
  });

  it('maps a city or county to its province', () => {
    expect(provinceOf('330106')).toBe('330000');
    expect(provinceOf('110000')).toBe('110000');
  });

  it.each([
    ['330106', true],
    ['660100', true],
    ['710000', false],
    ['810000', false],
    ['000000', false],
    ['33010', false],
    ['3301060', false],
    ['33O106', false],
  ])('isKnownRegion(%s) is %s', (code, known) => {
    expect(isKnownRegion(code)).toBe(known);
  });

  it.each([
    ['330000', '330000', true],
    ['330000', '330106', true],
    ['330000', '320106', false],
    ['330100', '330106', true],
    ['330100', '330206', false],
    ['330106', '330106', true],
    ['330106', '330100', false],
    ['330106', '330000', false],
    ['110000', '110101', true],
    ['990000', '990101', false],
    ['330000', '33', false],
  ])('a client of %s may act on %s: %s', (client, region, allowed) => {
    expect(inRegionScope(client, region)).toBe(allowed);
  });

  it('parses region codes with messages that never echo the input', () => {
    expect(regionCodeSchema.parse('440305')).toBe('440305');
    for (const input of ['9912345', '990101', 'abcdef']) {
      const result = regionCodeSchema.safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues).toHaveLength(1);
      expect(JSON.stringify(result.error)).not.toContain(input);
    }
  });
});
