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
  for (const auto& item : inputs.toListRef()) {
    std::vector<torch::IValue> args;
    for (const auto& a : item.toTupleRef().elements()) args.push_back(a);
    try {
      torch::manual_seed(0);
      outputs.push_back(model.forward(args));
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
