// One function per translation unit; module.cpp sums them.
#pragma once

long unit00();
long unit01();
long unit02();
long unit03();
long unit04();
long unit05();
long unit06();
long unit07();
long unit08();
long unit09();
long unit10();
long unit11();
long unit12();
long unit13();
long unit14();
long unit15();
long unit16();
long unit17();
long unit18();
long unit19();
long unit20();
long unit21();
long unit22();
long unit23();
