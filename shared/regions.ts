import * as z from 'zod';

export interface Province {
  readonly code: string;
  readonly name: string;
  readonly nameZh: string;
}

// GB/T 2260 provincial-level divisions. 660000 is not in GB/T 2260 but is what platforms use for the
// Xinjiang Production and Construction Corps, so the hub treats it as the 32nd region.
export const PROVINCES: readonly Province[] = [
  { code: '110000', name: 'Beijing', nameZh: '北京' },
  { code: '120000', name: 'Tianjin', nameZh: '天津' },
  { code: '130000', name: 'Hebei', nameZh: '河北' },
  { code: '140000', name: 'Shanxi', nameZh: '山西' },
  { code: '150000', name: 'Inner Mongolia', nameZh: '内蒙古' },
  { code: '210000', name: 'Liaoning', nameZh: '辽宁' },
  { code: '220000', name: 'Jilin', nameZh: '吉林' },
  { code: '230000', name: 'Heilongjiang', nameZh: '黑龙江' },
  { code: '310000', name: 'Shanghai', nameZh: '上海' },
  { code: '320000', name: 'Jiangsu', nameZh: '江苏' },
  { code: '330000', name: 'Zhejiang', nameZh: '浙江' },
  { code: '340000', name: 'Anhui', nameZh: '安徽' },
  { code: '350000', name: 'Fujian', nameZh: '福建' },
  { code: '360000', name: 'Jiangxi', nameZh: '江西' },
  { code: '370000', name: 'Shandong', nameZh: '山东' },
  { code: '410000', name: 'Henan', nameZh: '河南' },
  { code: '420000', name: 'Hubei', nameZh: '湖北' },
  { code: '430000', name: 'Hunan', nameZh: '湖南' },
  { code: '440000', name: 'Guangdong', nameZh: '广东' },
  { code: '450000', name: 'Guangxi', nameZh: '广西' },
  { code: '460000', name: 'Hainan', nameZh: '海南' },
  { code: '500000', name: 'Chongqing', nameZh: '重庆' },
  { code: '510000', name: 'Sichuan', nameZh: '四川' },
  { code: '520000', name: 'Guizhou', nameZh: '贵州' },
  { code: '530000', name: 'Yunnan', nameZh: '云南' },
  { code: '540000', name: 'Tibet', nameZh: '西藏' },
  { code: '610000', name: 'Shaanxi', nameZh: '陕西' },
  { code: '620000', name: 'Gansu', nameZh: '甘肃' },
  { code: '630000', name: 'Qinghai', nameZh: '青海' },
  { code: '640000', name: 'Ningxia', nameZh: '宁夏' },
  { code: '650000', name: 'Xinjiang', nameZh: '新疆' },
  { code: '660000', name: 'Xinjiang Production and Construction Corps', nameZh: '新疆生产建设兵团' },
];

const provincesByCode = new Map(PROVINCES.map((province) => [province.code, province]));
const SIX_DIGITS = /^\d{6}$/;

/** The provincial-level code a division belongs to: its first two digits followed by `0000`. */
export function provinceOf(regionCode: string): string {
  return `${regionCode.slice(0, 2)}0000`;
}

export function findProvince(regionCode: string): Province | undefined {
  return SIX_DIGITS.test(regionCode) ? provincesByCode.get(provinceOf(regionCode)) : undefined;
}

/**
 * True for a 6-digit division code inside one of the 32 regions. The hub holds no full GB/T 2260
 * list (it changes yearly), so any city or county code of a known province counts as known.
 */
export function isKnownRegion(regionCode: string): boolean {
  return findProvince(regionCode) !== undefined;
}

/**
 * Whether a client registered for `clientRegionCode` may act on `regionCode`. A division covers the
 * codes that share its significant prefix: a province its first two digits, a city its first four.
 */
export function inRegionScope(clientRegionCode: string, regionCode: string): boolean {
  if (!isKnownRegion(clientRegionCode) || !isKnownRegion(regionCode)) return false;
  const prefix = significantPrefix(clientRegionCode);
  return regionCode.startsWith(prefix);
}

function significantPrefix(regionCode: string): string {
  if (regionCode.endsWith('0000')) return regionCode.slice(0, 2);
  if (regionCode.endsWith('00')) return regionCode.slice(0, 4);
  return regionCode;
}

export const regionCodeSchema = z
  .string()
  .regex(SIX_DIGITS, { message: 'A region code is a 6-digit GB/T 2260 division code.', abort: true })
  .refine(isKnownRegion, {
    message: 'The region code does not belong to any of the 32 provincial-level regions.',
  })
  .describe('6-digit GB/T 2260 division code within one of the 32 provincial-level regions');
