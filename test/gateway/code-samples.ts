/** Source code full of angle brackets, the kind the sanitizer once rewrote: it must reach clients byte for byte. */
export const CODE_SAMPLES = {
  cpp: 'std::vector<std::vector<int>> grid;\nstd::map<std::string, std::vector<int>>m;\ntemplate <typename T> using Pair = std::pair<T, std::vector<T>>;\nint x = a<<b>>c; cout << x >> y;\nif (a < b && c > d) {}\n< /notatag> </ spaced> <tag > <<tag> <tag>>\n',
  rust: 'fn main() { let v: Vec<Vec<u8>> = Vec::new(); let h: HashMap<String, Vec<Option<u8>>> = HashMap::new(); }\nimpl<T: Into<Box<dyn Error>>> From<T> for E {}\n',
  java: 'Map<String, List<Integer>> byName = new HashMap<>();\nList<Map<String, List<Integer>>> all = List.of();\nclass A<T extends Comparable<? super T>> {}\n',
  shell: "cat <<EOF > out.txt\nhello <world>>\nEOF\ncat <<-'END'\n\tindented\nEND\nwc -l <<< \"$x\" 2>&1 >> log.txt\n",
  emoji: 'surrogates split across deltas: 🦊🧪 and a\ttab\n',
}

export const ALL_CODE = Object.values(CODE_SAMPLES).join('\n')
