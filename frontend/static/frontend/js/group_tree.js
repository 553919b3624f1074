// The project's groups as a tree-indented list of <option>s, for choosing a group or a parent.
import { get, projectPaths } from "./api.js";
import { h } from "./dom.js";

function flatten(nodes, depth = 0, into = []) {
  for (const node of nodes) {
    into.push({ ...node, depth });
    flatten(node.children, depth + 1, into);
  }
  return into;
}

/** The project's groups, parents before their subgroups, each with its depth. */
export async function groupsFlat(slug) {
  return flatten(await get(projectPaths(slug).tree));
}

/** Options for `groups` (from groupsFlat), indented by depth, after `first` ([value, label]). */
export function groupOptions(groups, first = ["", "top level"]) {
  return [
    ...(first ? [h("option", { value: first[0] }, first[1])] : []),
    ...groups.map((group) => h("option", { value: group.id }, `${"\u00a0\u00a0".repeat(group.depth)}${group.name}`)),
  ];
}
