// tsannotate's C++ runner: load a TorchScript model and call its forward() on inputs,
// with no Python in the process. Built once per torch version by tsannotate/worker/cpp.py.
//
// usage: runner MODEL.pt INPUTS.pt OUTPUTS.pt
//   INPUTS.pt  torch.save(list of argument tuples), zip format (torch::jit::pickle_load reads it)
//   OUTPUTS.pt written with torch::jit::pickle_save: a list holding one entry per input, either
//              the output, or the string "error: <what>" when forward() threw.
#include <torch/script.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

static std::vector<char> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// torch.save'd Python lists and dicts load as List[Any] / Dict[Any, Any]; forward() checks
// its arguments' types, so rebuild containers with the element types its schema declares.
static torch::IValue retype(const torch::IValue& v, const c10::TypePtr& t) {
  if (v.isNone()) return v;
  if (auto opt = t->cast<c10::OptionalType>()) return retype(v, opt->getElementType());
  if (v.isList()) {
    if (auto lt = t->cast<c10::ListType>()) {
      c10::impl::GenericList out(lt->getElementType());
      for (const auto& e : v.toListRef()) out.push_back(retype(e, lt->getElementType()));
      return out;
    }
  }
  if (v.isTuple()) {
    if (auto tt = t->cast<c10::TupleType>()) {
      const auto& src = v.toTupleRef().elements();
      std::vector<torch::IValue> items;
      for (size_t i = 0; i < src.size(); ++i)
        items.push_back(i < tt->elements().size() ? retype(src[i], tt->elements()[i]) : src[i]);
      return c10::ivalue::Tuple::create(std::move(items));
    }
  }
  if (v.isGenericDict()) {
    if (auto dt = t->cast<c10::DictType>()) {
      c10::impl::GenericDict out(dt->getKeyType(), dt->getValueType());
      for (const auto& kv : v.toGenericDict())
        out.insert(retype(kv.key(), dt->getKeyType()), retype(kv.value(), dt->getValueType()));
      return out;
    }
  }
  return v;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " MODEL.pt INPUTS.pt OUTPUTS.pt\n";
    return 2;
  }
  torch::jit::Module model;
  torch::IValue inputs;
  try {
    model = torch::jit::load(argv[1]);
    inputs = torch::jit::pickle_load(read_file(argv[2]));
  } catch (const std::exception& e) {
    std::cerr << "load failed: " << e.what() << "\n";
    return 3;
  }
  torch::NoGradGuard no_grad;
  c10::impl::GenericList outputs(c10::AnyType::get());
  const auto& params = model.get_method("forward").function().getSchema().arguments();
  for (const auto& item : inputs.toListRef()) {
    std::vector<torch::IValue> args;
    for (const auto& a : item.toTupleRef().elements()) {
      size_t i = args.size() + 1;  // params[0] is self
      args.push_back(i < params.size() ? retype(a, params[i].type()) : a);
    }
    try {
      torch::manual_seed(0);
      outputs.push_back(model.forward(args));
    } catch (const c10::Error& e) {
      outputs.push_back(torch::IValue(std::string("error: ") + e.what_without_backtrace()));
    } catch (const std::exception& e) {
      std::string what = e.what();
      outputs.push_back(torch::IValue(std::string("error: ") + what.substr(0, 4000)));
    }
  }
  std::vector<char> data = torch::jit::pickle_save(torch::IValue(outputs));
  std::ofstream out(argv[3], std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return out ? 0 : 4;
}
