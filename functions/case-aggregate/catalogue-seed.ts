import {
  generateAuthorityCode,
  generateImplementationCode,
  type Random,
  seededRandom,
} from '../../shared/identifiers/generate';
import { PROVINCES } from '../../shared/regions';
import type { CatalogueItem } from './domain/catalogue';

/**
 * A synthetic item catalogue for all 32 regions, for the local hub and benchmarks: the same seed gives the same
 * catalogue. Every region gets the same kinds of departments and items (as implementation lists do: the
 * national list of item types is implemented by each region's own departments), each department a generated
 * government-body credit code of its province and each item an implementation code led by it. Names are item
 * types common to every region; time limits are plausible, not official.
 */

export const DEFAULT_CATALOGUE_SEED = 20260401;
export const DEFAULT_ITEMS_PER_REGION = 24;

interface ItemTemplate {
  name: string;
  department: string;
  statutoryDays: number;
  /** Promised limits are cut from the statutory one (承诺时限 ≤ 法定时限): this share of it, at most. */
  promisedShare: number;
  /** Chance that a region handles it fully online (全程网办). */
  fullyOnlineChance: number;
}

const T = (
  name: string,
  department: string,
  statutoryDays: number,
  promisedShare: number,
  fullyOnlineChance: number,
): ItemTemplate => ({ name, department, statutoryDays, promisedShare, fullyOnlineChance });

export const ITEM_TEMPLATES: readonly ItemTemplate[] = [
  T('企业设立登记', '市场监督管理局', 15, 0.2, 0.95),
  T('企业变更登记', '市场监督管理局', 15, 0.2, 0.9),
  T('企业注销登记', '市场监督管理局', 15, 0.3, 0.85),
  T('食品经营许可', '市场监督管理局', 20, 0.5, 0.7),
  T('个体工商户设立登记', '市场监督管理局', 15, 0.2, 0.9),
  T('居民户口迁移', '公安厅', 20, 0.5, 0.4),
  T('居民身份证换领', '公安厅', 60, 0.5, 0.1),
  T('机动车驾驶证换证', '公安厅', 10, 0.3, 0.6),
  T('社会保障卡申领', '人力资源和社会保障厅', 20, 0.5, 0.8),
  T('失业保险金申领', '人力资源和社会保障厅', 20, 0.4, 0.85),
  T('职工基本养老保险关系转移', '人力资源和社会保障厅', 45, 0.4, 0.75),
  T('建设工程规划许可证核发', '自然资源厅', 20, 0.5, 0.5),
  T('不动产登记', '自然资源厅', 30, 0.2, 0.45),
  T('建筑工程施工许可证核发', '住房和城乡建设厅', 15, 0.5, 0.6),
  T('住房公积金提取', '住房和城乡建设厅', 10, 0.3, 0.9),
  T('医师执业注册', '卫生健康委员会', 20, 0.5, 0.8),
  T('出生医学证明办理', '卫生健康委员会', 10, 0.3, 0.3),
  T('道路运输经营许可', '交通运输厅', 20, 0.5, 0.7),
  T('婚姻登记', '民政厅', 1, 1, 0),
  T('社会团体成立登记', '民政厅', 60, 0.3, 0.6),
  T('教师资格认定', '教育厅', 30, 0.5, 0.7),
  T('民办学校办学许可', '教育厅', 90, 0.4, 0.3),
  T('取水许可', '水利厅', 45, 0.4, 0.5),
  T('排污许可证核发', '生态环境厅', 20, 0.5, 0.75),
  T('药品经营许可', '药品监督管理局', 30, 0.5, 0.6),
  T('纳税人涉税信息查询', '税务局', 0, 0, 1),
  T('增值税专用发票领用', '税务局', 5, 0.2, 0.95),
  T('特种设备使用登记', '市场监督管理局', 15, 0.3, 0.7),
];

/** The region codes of a province the seed spreads items over: the province itself and two cities. */
const regionsOf = (provinceCode: string): string[] => {
  const prefix = provinceCode.slice(0, 2);
  return [provinceCode, `${prefix}0100`, `${prefix}0200`];
};

export interface CatalogueSeedOptions {
  seed?: number;
  /** Items per provincial-level region, up to the number of item templates. */
  itemsPerRegion?: number;
}

export function generateCatalogue(options: CatalogueSeedOptions = {}): CatalogueItem[] {
  const random = seededRandom(options.seed ?? DEFAULT_CATALOGUE_SEED);
  const perRegion = Math.min(options.itemsPerRegion ?? DEFAULT_ITEMS_PER_REGION, ITEM_TEMPLATES.length);
  return PROVINCES.flatMap((province) => regionCatalogue(random, province.code, perRegion));
}

function regionCatalogue(random: Random, provinceCode: string, count: number): CatalogueItem[] {
  const regions = regionsOf(provinceCode);
  const departments = new Map<string, string>();
  const departmentCode = (department: string, regionCode: string) => {
    const key = `${department}@${regionCode}`;
    const code = departments.get(key) ?? generateAuthorityCode(random, regionCode);
    departments.set(key, code);
    return code;
  };
  return ITEM_TEMPLATES.slice(0, count).map((template, i) => {
    const regionCode = regions[i % regions.length] as string;
    const implementer = departmentCode(template.department, regionCode);
    const ceiling = Math.floor(template.statutoryDays * template.promisedShare);
    return {
      implementationCode: generateImplementationCode(random, implementer),
      name: template.name,
      departmentCode: implementer,
      regionCode,
      promisedDays: Math.max(0, ceiling - Math.floor(random() * Math.max(1, ceiling / 2))),
      statutoryDays: template.statutoryDays,
      fullyOnlineCapable: random() < template.fullyOnlineChance,
    };
  });
}
